import { describe, expect, it } from 'vitest';
import {
  ipcChannelPrefix,
  ipcChannels,
  ipcOperationKeys,
} from '../../../electron/ipc/ipc-contract.ts';
import { checkIpcRequest, isTrustedSender } from '../../../electron/ipc/ipc-validation.ts';
import { inputSchemas } from '../../../core/service/contract.ts';

const page = 'file:///opt/app/dist/renderer/index.html';
const trust = { webContentsIds: new Set([7]), pageUrls: [page] };
const ours = { webContentsId: 7, frameUrl: page, isMainFrame: true };

describe('IPC contract', () => {
  it('has one prefixed channel per operation, plus state and push', () => {
    expect(new Set(ipcOperationKeys)).toEqual(new Set(Object.keys(inputSchemas)));
    for (const channel of Object.values(ipcChannels))
      expect(channel.startsWith(ipcChannelPrefix)).toBe(true);
    expect(new Set(Object.values(ipcChannels)).size).toBe(Object.keys(ipcChannels).length);
  });
});

describe('isTrustedSender', () => {
  it('accepts our window showing our page, with a fragment', () => {
    expect(isTrustedSender({ ...ours, frameUrl: `${page}#x` }, trust)).toBe(true);
  });

  it.each([
    ['an unknown webContents', { ...ours, webContentsId: 8 }],
    ['an iframe', { ...ours, isMainFrame: false }],
    ['a destroyed frame', { ...ours, frameUrl: null }],
    ['another page', { ...ours, frameUrl: 'https://auth.openai.com/' }],
    ['a look-alike file', { ...ours, frameUrl: 'file:///opt/app/dist/renderer/index.html.evil' }],
    ['a garbage URL', { ...ours, frameUrl: '::' }],
  ])('rejects %s', (_name, sender) => {
    expect(isTrustedSender(sender, trust)).toBe(false);
    const result = checkIpcRequest('setActive', sender, { profile: 'work' }, trust);
    expect(result).toMatchObject({ ok: false, code: 'unauthorized' });
  });
});

describe('checkIpcRequest', () => {
  it('passes a valid payload through the schema (defaults applied)', () => {
    expect(checkIpcRequest('removeProfile', ours, { profile: 'work' }, trust)).toEqual({
      ok: true,
      request: { profile: 'work', revoke: false, force: false },
    });
    expect(checkIpcRequest('getState', ours, undefined, trust)).toEqual({
      ok: true,
      request: undefined,
    });
  });

  it('leaves the rules on values to the operation: only the shape is checked here', () => {
    // A name or session id the core refuses is refused by the operation, in the core's own code
    // and sentence, as on the CLI without a router (not here, in a second copy of the rule).
    for (const [key, payload] of [
      ['setActive', { profile: '' }],
      ['renameProfile', { from: 'work', to: 'x'.repeat(300) }],
      ['pinSession', { sessionId: 'x'.repeat(300), profile: 'work' }],
    ] as const) {
      expect(checkIpcRequest(key, ours, payload, trust)).toMatchObject({ ok: true });
    }
  });

  it.each([
    ['setActive', undefined],
    ['setActive', null],
    ['setActive', 'work'],
    ['setActive', { profile: 42 }],
    ['renameProfile', { from: 'a' }],
    ['setPriming', { profile: 'a', enabled: 'yes' }],
    ['pinSession', { sessionId: 7, profile: null }],
    ['cancelLogin', { id: ['x'] }],
    ['getState', { sneaky: true }],
  ] as const)('rejects a malformed %s payload %j', (key, payload) => {
    const result = checkIpcRequest(key, ours, payload, trust);
    // One code per failure on every surface: the control API answers the same payload alike.
    expect(result).toMatchObject({ ok: false, code: 'invalid_argument' });
    if (!result.ok) expect(result.message).toMatch(new RegExp(`^Invalid input for ${key}\\b`));
  });
});
