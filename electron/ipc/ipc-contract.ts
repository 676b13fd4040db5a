/**
 * The one IPC contract main and preload share: every channel's name (all under the `codex-lab:`
 * prefix, which the sender check also relies on) and its request/response types, derived from the
 * service contract so a new operation cannot be forgotten here without a compile error.
 */
import type { Inputs, LabApi, LabState, OperationName } from '../../core/service/contract.ts';

/** Every channel name starts with this, so a foreign channel is recognisable at a glance. */
export const ipcChannelPrefix = 'codex-lab:';

/**
 * Channel names: one per `LabApi` operation, plus `getState` and two pushes, `stateChanged` and
 * `offline` (the router this app follows stopped answering: `subscribe`'s `onOffline`).
 */
export const ipcChannels = {
  getState: 'codex-lab:get-state',
  setActive: 'codex-lab:set-active',
  renameProfile: 'codex-lab:rename-profile',
  removeProfile: 'codex-lab:remove-profile',
  startLogin: 'codex-lab:start-login',
  cancelLogin: 'codex-lab:cancel-login',
  completeLogin: 'codex-lab:complete-login',
  setPriming: 'codex-lab:set-priming',
  primeNow: 'codex-lab:prime-now',
  pinSession: 'codex-lab:pin-session',
  pinRepo: 'codex-lab:pin-repo',
  refreshUsage: 'codex-lab:refresh-usage',
  stateChanged: 'codex-lab:state-changed',
  offline: 'codex-lab:offline',
} as const satisfies Record<OperationName | 'getState' | IpcPushKey, `codex-lab:${string}`>;

/** The channels main pushes on; the renderer listens and answers nothing. */
export type IpcPushKey = 'stateChanged' | 'offline';

/** A key of `ipcChannels`. */
export type IpcChannelKey = keyof typeof ipcChannels;

/** Keys of the channels the renderer invokes (request → response). */
export type IpcInvokeKey = Exclude<IpcChannelKey, IpcPushKey>;

/** The shape every contract entry has. */
interface Contract {
  request: unknown;
  response: unknown;
}

/** Fails to compile unless every channel has exactly one contract entry. */
type AssertCoverage<T extends Record<IpcChannelKey, Contract>> = T;

/** Request and response types per channel. */
export type IpcContracts = AssertCoverage<
  {
    [K in OperationName]: { request: Inputs[K]; response: Awaited<ReturnType<LabApi[K]>> };
  } & {
    getState: { request: undefined; response: LabState };
    /** Pushed from main to the renderer; the renderer answers nothing. */
    stateChanged: { request: LabState; response: void };
    /** Pushed from main: one sentence saying the router is not answering (until a new state). */
    offline: { request: string; response: void };
  }
>;

/** The request type of a channel. */
export type IpcRequest<K extends IpcChannelKey> = IpcContracts[K]['request'];
/** The response type of a channel. */
export type IpcResponse<K extends IpcChannelKey> = IpcContracts[K]['response'];
/** The argument list of a channel: none when its request is `undefined`. */
export type IpcArgs<K extends IpcChannelKey> =
  IpcRequest<K> extends undefined ? [] : [request: IpcRequest<K>];

/** The operation keys (channels with a validated input). */
export const ipcOperationKeys = Object.keys(ipcChannels).filter(
  (key): key is OperationName => key !== 'getState' && key !== 'stateChanged' && key !== 'offline',
);
