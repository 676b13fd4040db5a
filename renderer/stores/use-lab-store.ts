/**
 * The page's one zustand store. Components select slices; side effects that follow state
 * (theme on <html>, the IPC subscription, the clock) live in subscriptions.ts.
 */
import { create } from 'zustand';
import { subscribeWithSelector } from 'zustand/middleware';
import type { LabApi } from '../../core/service/contract.ts';
import { defaultLabStoreState, defaultSignInFlow } from './defaults.ts';
import type { LabStore } from './types.ts';

let api: LabApi | null = null;

function requireApi(): LabApi {
  if (!api) throw new Error('The Codex Lab API is not attached yet.');
  return api;
}

/** The store hook. */
export const useLabStore = create<LabStore>()(
  subscribeWithSelector((set, get) => ({
    ...defaultLabStoreState,
    attach(next, host) {
      api = next;
      set({ host });
    },
    receive(lab) {
      set({ lab, connection: 'live', connectionError: null });
    },
    setConnection(connection, error = null) {
      set({ connection, connectionError: error });
    },
    setTheme(theme) {
      set({ theme });
    },
    tick(now) {
      set({ now });
    },
    showNotice(notice) {
      set({ notice });
    },
    async run(label, operation) {
      const result = await operation(requireApi());
      if (!result.ok) set({ notice: { tone: 'error', text: `${label}: ${result.message}` } });
      return result;
    },
    openSignIn() {
      const { popup, device } = get().signIn;
      set({ signIn: { ...defaultSignInFlow, open: true, popup, device } });
    },
    updateSignIn(patch) {
      set({ signIn: { ...get().signIn, ...patch } });
    },
    async startSignIn() {
      const flow = get().signIn;
      const name = flow.name.trim();
      const result = await requireApi().startLogin({
        name: name === '' ? null : name,
        popup: flow.popup,
        method: flow.device ? 'device' : 'browser',
      });
      if (result.ok) {
        set({ signIn: { ...get().signIn, loginId: result.value.id, error: null } });
      } else {
        set({ signIn: { ...get().signIn, loginId: null, error: result.message } });
      }
    },
    async completeSignIn(callbackUrl) {
      const id = get().signIn.loginId;
      if (!id) return false;
      const result = await requireApi().completeLogin({ id, callbackUrl });
      set({ signIn: { ...get().signIn, error: result.ok ? null : result.message } });
      return result.ok;
    },
    async cancelSignIn() {
      const id = get().signIn.loginId;
      if (id) await requireApi().cancelLogin({ id });
      const { popup, device } = get().signIn;
      set({ signIn: { ...defaultSignInFlow, popup, device } });
    },
    closeSignIn() {
      const { popup, device } = get().signIn;
      set({ signIn: { ...defaultSignInFlow, popup, device } });
    },
  })),
);
