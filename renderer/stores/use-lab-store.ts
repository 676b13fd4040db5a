/**
 * The page's one zustand store. Components select slices; side effects that follow state
 * (theme on <html>, the IPC subscription, the clock) live in subscriptions.ts.
 */
import { create } from 'zustand';
import { subscribeWithSelector } from 'zustand/middleware';
import type { LabApi, LabState } from '../../core/service/contract.ts';
import type { DesktopApi } from '../../electron/ipc/desktop-contract.ts';
import { explainLoginError } from '../format.ts';
import { defaultLabStoreState, defaultSignInFlow } from './defaults.ts';
import { followCardKeys, followRenamedTo, renamesBetween } from './renames.ts';
import { signInFlowOf } from './sign-in-method.ts';
import type { LabStore, Notice, SignInFlow } from './types.ts';

let api: LabApi | null = null;
// The desktop app's own channels (absent in the web dashboard): the sign-in preference.
let desktop: DesktopApi | null = null;

/**
 * The sign-in flow after a new state: its login's latest view while the state lists it; gone
 * when a state no longer does, once one has listed it or the page has reconnected (a restarted
 * service forgets its logins). Before the first listing, the state may simply predate the login.
 */
function followLogin(flow: SignInFlow, lab: LabState, reconnected: boolean): SignInFlow {
  if (flow.loginId === null || flow.gone) return flow;
  const live = lab.logins.find((login) => login.id === flow.loginId);
  if (live) return live === flow.lastSeen ? flow : { ...flow, lastSeen: live, seen: true };
  return flow.seen || reconnected ? { ...flow, gone: true } : flow;
}

/**
 * True when the sign-in a notice asks for has happened: each profile it names has been signed in
 * since (its login finished, or it went from "needs sign-in" to anything else between two states)
 * or is gone (removed or renamed: nothing left to sign in under that name).
 */
export function noticeFixed(
  notice: Notice | null,
  before: LabState | null,
  lab: LabState,
): boolean {
  if (notice?.fix?.action !== 'sign_in') return false;
  return notice.fix.profiles.every((name) => {
    const profile = lab.profiles.find((view) => view.name === name);
    if (!profile) return true;
    const signedIn = (state: LabState | null) =>
      state?.logins.some((login) => login.profile === name && login.state === 'done') ?? false;
    if (signedIn(lab) && !signedIn(before)) return true;
    const was = before?.profiles.find((view) => view.name === name);
    return was?.status === 'auth_error' && profile.status !== 'auth_error';
  });
}

/**
 * True when a failure with `code` was only Codex Lab not answering: it is over once the page is
 * live again (a notice at the top, a form's error under its field), whatever the action was.
 */
export function outageFailure(code: string | undefined): boolean {
  return code === 'router_unavailable';
}

function requireApi(): LabApi {
  if (!api) throw new Error('The Codex Lab API is not attached yet.');
  return api;
}

/** The store hook. */
export const useLabStore = create<LabStore>()(
  subscribeWithSelector((set, get) => ({
    ...defaultLabStoreState,
    attach(next, host, desktopApi = null) {
      api = next;
      desktop = desktopApi;
      set({ host });
    },
    receive(lab) {
      const { connection, notice, signIn, lab: before, cardKeys, renamedTo, reconnects } = get();
      const reconnected = connection === 'offline';
      const renames = renamesBetween(before?.profiles ?? [], lab.profiles);
      const keys = followCardKeys(cardKeys, lab.profiles, renames);
      const listed = new Set(Object.values(keys));
      set({
        lab,
        cardKeys: keys,
        // A removed account's card is closed for good: a later one under its name starts closed.
        openCards: get().openCards.filter((key) => listed.has(key)),
        renamedTo: followRenamedTo(renamedTo, lab.profiles, renames),
        connection: 'live',
        connectionError: null,
        reconnects: reconnected ? reconnects + 1 : reconnects,
        signIn: followLogin(signIn, lab, reconnected),
        // "Not answering" from an operation tried during the outage is over once it is, and a
        // "needs a new sign-in" once the sign-in is done.
        notice:
          (reconnected && outageFailure(notice?.code)) || noticeFixed(notice, before, lab)
            ? null
            : notice,
      });
    },
    setConnection(connection, error = null) {
      set({ connection, connectionError: error });
    },
    setTheme(theme) {
      set({ theme });
    },
    setAccountsView(accountsView) {
      set({ accountsView });
    },
    setCardOpen(key, open) {
      const others = get().openCards.filter((each) => each !== key);
      set({ openCards: open ? [...others, key] : others });
    },
    tick(now) {
      set({ now });
    },
    showNotice(notice) {
      set({ notice });
    },
    async run(label, operation) {
      const result = await operation(requireApi());
      if (!result.ok) {
        set({
          notice: {
            tone: 'error',
            text: `${label}: ${result.message}`,
            code: result.code,
            scope: label,
            ...(result.fix ? { fix: result.fix } : {}),
          },
        });
      } else if (get().notice?.scope === label) {
        // The same action has now worked: its earlier failure is no longer news.
        set({ notice: null });
      }
      return result;
    },
    attempt(operation) {
      return operation(requireApi());
    },
    openSignIn() {
      const { popup, device } = get().signIn;
      set({ signIn: { ...defaultSignInFlow, open: true, popup, device } });
    },
    updateSignIn(patch) {
      set({ signIn: { ...get().signIn, ...patch } });
    },
    chooseSignInMethod(method) {
      set({ signIn: { ...get().signIn, ...signInFlowOf(method) } });
      // Main pushes the change back to every window (the settings section follows) and the tray.
      void desktop?.setPreferences({ signIn: method });
    },
    async startSignIn() {
      const flow = get().signIn;
      // One start at a time: a second (a double click) would open a second page and cancel the
      // first sign-in while its page is open.
      if (flow.starting || flow.loginId !== null) return;
      set({ signIn: { ...flow, starting: true } });
      const name = flow.name.trim();
      const result = await requireApi()
        .startLogin({
          name: name === '' ? null : name,
          popup: flow.popup,
          method: flow.device ? 'device' : 'browser',
          // Add account asks for a new profile: a name one has is refused before any page opens.
          newProfile: flow.reauth === null,
        })
        .finally(() => set({ signIn: { ...get().signIn, starting: false } }));
      if (result.ok) {
        set({
          signIn: {
            ...get().signIn,
            loginId: result.value.id,
            lastSeen: result.value,
            seen: false,
            gone: false,
            error: null,
          },
        });
      } else if (
        flow.reauth === null &&
        (result.code === 'name_taken' || result.code === 'invalid_name')
      ) {
        // About the name the user typed: said under that field.
        set({ signIn: { ...get().signIn, loginId: null, nameError: result.message } });
      } else {
        set({
          signIn: {
            ...get().signIn,
            loginId: null,
            error: explainLoginError(result.code, result.message),
          },
        });
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
