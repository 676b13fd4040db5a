/**
 * Pure checks run on every IPC message before a handler sees it: is the sender one of our own
 * windows showing our own page, and does the payload match the operation's input schema. Kept
 * free of Electron imports so it is unit-tested under plain Node.
 */
import { parseOperationInput, type ContractFailure } from '../../core/service/contract.ts';
import { ipcChannels, type IpcInvokeKey, type IpcRequest } from './ipc-contract.ts';

/** What main knows about the sender of one message (from `event.sender` / `event.senderFrame`). */
export interface IpcSenderInfo {
  webContentsId: number;
  /** The sending frame's URL, or null when the frame is gone. */
  frameUrl: string | null;
  /** False for iframes: only a window's top frame may talk to main. */
  isMainFrame: boolean;
}

/** Which senders main trusts. */
export interface IpcTrust {
  /** Ids of the webContents of our own settings windows. */
  webContentsIds: ReadonlySet<number>;
  /** URLs of our own page (e.g. `file:///…/dist/renderer/index.html`); compared without hash/query. */
  pageUrls: readonly string[];
}

/** A validated request, ready for the handler. */
export type IpcCheck<K extends IpcInvokeKey> =
  { ok: true; request: IpcRequest<K> } | ContractFailure;

function pageKey(url: string): string | null {
  try {
    const parsed = new URL(url);
    // Compare with a real parser, never startsWith: `file:///app/index.html.evil` must not pass.
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return null;
  }
}

/** True when the message comes from the top frame of one of our windows showing our page. */
export function isTrustedSender(sender: IpcSenderInfo, trust: IpcTrust): boolean {
  if (!trust.webContentsIds.has(sender.webContentsId)) return false;
  if (!sender.isMainFrame || sender.frameUrl === null) return false;
  const key = pageKey(sender.frameUrl);
  if (key === null) return false;
  return trust.pageUrls.some((url) => pageKey(url) === key);
}

/** Checks sender and payload of one invoke; a failure is returned, never thrown. */
export function checkIpcRequest<K extends IpcInvokeKey>(
  key: K,
  sender: IpcSenderInfo,
  payload: unknown,
  trust: IpcTrust,
): IpcCheck<K> {
  if (!isTrustedSender(sender, trust)) {
    return {
      ok: false,
      code: 'unauthorized',
      message: `Refused ${ipcChannels[key]}: the message did not come from a Codex Lab window.`,
    };
  }
  if (key === 'getState') {
    if (payload !== undefined) {
      return {
        ok: false,
        code: 'invalid_argument',
        message: 'Invalid input for getState: it takes no input.',
      };
    }
    return { ok: true, request: undefined as IpcRequest<K> };
  }
  // The same validation, code and sentence as the control API's (one per failure everywhere).
  const parsed = parseOperationInput(key as Exclude<K, 'getState'>, payload);
  if (!parsed.ok) return parsed;
  return { ok: true, request: parsed.value as IpcRequest<K> };
}
