/**
 * Audit: the keyring store writes where stock Codex reads — service "Codex Auth" (a literal here,
 * not the module's constant) and account `cli|` + the first 16 hex of sha256(canonical folder) —
 * and the value is Codex's auth.json. Skips, saying why, when no Secret Service is running.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsyncEntry } from '@napi-rs/keyring';
import { afterAll, describe, expect, it } from 'vitest';
import { labPaths } from '../../../core/home/paths.ts';
import { createSystemKeyring, probeKeyring } from '../../../core/profiles/keyring.ts';
import { authDotJsonSchema } from '../../../core/profiles/schema.ts';
import { ProfileStore } from '../../../core/profiles/store.ts';
import { makeAuth } from '../../helpers/profile-auth.ts';

const probe = await probeKeyring();
if (!probe.available)
  console.warn(`[keyring] skipping the Codex keyring compatibility test: ${probe.reason}`);

describe.skipIf(!probe.available)('keyring entries are where Codex looks', () => {
  const homes: string[] = [];
  afterAll(async () => {
    for (const home of homes) await rm(home, { recursive: true, force: true });
  });

  it('stores the auth.json under service "Codex Auth" and Codex’s key for the profile folder', async () => {
    const home = await realpath(await mkdtemp(join(tmpdir(), 'codex-lab-keyring-compat-')));
    homes.push(home);
    const paths = labPaths(home);
    const store = new ProfileStore({ paths, keyring: createSystemKeyring() });
    const auth = makeAuth({
      email: `k${randomBytes(4).toString('hex')}@example.com`,
      accountId: 'acct-audit',
    });
    const { name } = await store.saveSignIn({ auth, requestedName: 'audit', store: 'keyring' });
    const folder = await realpath(paths.profileDir(name));
    const account = `cli|${createHash('sha256').update(folder).digest('hex').slice(0, 16)}`;
    const raw = await new AsyncEntry('Codex Auth', account).getPassword();
    expect(raw).not.toBeNull();
    const stored = authDotJsonSchema.parse(JSON.parse(raw!));
    expect(stored.tokens).toEqual(auth.tokens);
    expect(stored.auth_mode).toBe('chatgpt');
    await store.remove(name);
    expect(await new AsyncEntry('Codex Auth', account).getPassword()).toBeNull();
  });
});
