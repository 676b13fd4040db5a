/**
 * The dashboard's Sign in again and Add account for a profile kept in the OS keychain, with the
 * keychain out of reach: refused before any sign-in page opens, in the sentence `codex-lab login
 * NAME` gives (the one check, `ProfileStore.precheckSignIn`), through the operation and the
 * control API alike; Add account under its name is refused as a name taken, keychain or not.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabError } from '../../core/errors.ts';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import type { KeyringPort } from '../../core/profiles/keyring.ts';
import type { AuthDotJson } from '../../core/profiles/schema.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { issueAuthDotJson } from '../fakes/fake-issuer.ts';
import { createTestLabService, postToRouter } from '../helpers/lab-service.ts';

/** An in-memory keychain; `down` makes every call fail as a locked keychain does. */
function memoryKeyring(): KeyringPort & { down: boolean } {
  const entries = new Map<string, string>();
  const fail = () => {
    throw new LabError('keyring_unavailable', 'The OS keychain is not available (locked).', {
      details: { detail: 'the keychain is locked' },
    });
  };
  const keyring = {
    down: false,
    get: async (account: string) => (keyring.down ? fail() : (entries.get(account) ?? null)),
    set: async (account: string, value: string) => {
      if (keyring.down) fail();
      entries.set(account, value);
    },
    delete: async (account: string) => {
      if (keyring.down) fail();
      entries.delete(account);
    },
  };
  return keyring;
}

const refused =
  'vault keeps its tokens in the OS keychain, which is not available (the keychain is locked), so no sign-in was started: unlock the keychain, then sign in again.';

let fake: FakeChatGpt;
let home: string;
let paths: LabPaths;
let keyring: ReturnType<typeof memoryKeyring>;

beforeEach(async () => {
  fake = await startFakeChatGpt({ accounts: [{ email: 'alice@example.com' }] });
  home = mkdtempSync(join(tmpdir(), 'codex-lab-keychain-sign-in-'));
  paths = labPaths(home);
  keyring = memoryKeyring();
  await new ProfileStore({ paths, keyring }).saveSignIn({
    auth: issueAuthDotJson(fake, 'alice@example.com') as AuthDotJson,
    requestedName: 'vault',
    store: 'keyring',
  });
  keyring.down = true;
});

afterEach(async () => {
  await fake.close();
  rmSync(home, { recursive: true, force: true });
});

describe('the dashboard signing in to a keychain profile without its keychain', () => {
  it('Sign in again and Add account are refused before any page opens, in the CLI’s sentence', async () => {
    const opened: string[] = [];
    const service = createTestLabService(fake, paths, {
      env: { CODEX_LAB_CALLBACK_PORT: '0' },
      keyring,
      openBrowser: (url) => opened.push(url),
    });
    try {
      for (const input of [
        { name: 'vault', popup: false },
        { name: 'Vault', method: 'device' as const },
      ]) {
        const started = await service.startLogin({
          popup: false,
          method: 'browser',
          newProfile: false,
          ...input,
        });
        expect(started).toEqual({ ok: false, code: 'keyring_unavailable', message: refused });
      }
      // Add account under the keychain profile's name: the name is taken, which needs no keychain
      // to say, so that is said first (the keychain is no matter for a name that cannot be used).
      const taken = await service.startLogin({
        name: 'Vault',
        popup: false,
        method: 'browser',
        newProfile: true,
      });
      expect(taken).toEqual({
        ok: false,
        code: 'name_taken',
        message:
          'vault is alice@example.com’s profile: to renew it, use “Sign in again” on its card; for another account, pick another name.',
      });
      expect(opened).toEqual([]);
      expect((await service.getState()).logins).toEqual([]);
      // A new account is not kept in the keychain: its sign-in is not held up by it.
      const fresh = await service.startLogin({
        name: 'other',
        popup: false,
        method: 'browser',
        newProfile: true,
      });
      expect(fresh).toMatchObject({ ok: true });
    } finally {
      await service.stop();
    }
  });

  it('the control API answers the same refusal', async () => {
    const service = createTestLabService(fake, paths, {
      env: { CODEX_LAB_CALLBACK_PORT: '0' },
      keyring,
      openBrowser: () => undefined,
    });
    try {
      const { url } = await service.start({ port: 0 });
      const token = await service.routerToken();
      const answer = await postToRouter(url, token, '/lab/v1/startLogin', { name: 'vault' });
      expect(answer.ok).toBe(false);
      expect(await answer.json()).toMatchObject({
        ok: false,
        code: 'keyring_unavailable',
        message: refused,
      });
      expect((await service.getState()).logins).toEqual([]);
    } finally {
      await service.stop();
    }
  });
});
