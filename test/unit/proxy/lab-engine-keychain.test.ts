/**
 * A keychain profile whose keychain is locked: the read that failed takes it out of every
 * decision and shows it as such, and the engine reads the keychain again on its own (injected
 * clock), since no request picks the profile any more to find it mended.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LabError } from '../../../core/errors.ts';
import { labPaths } from '../../../core/home/paths.ts';
import { silentLogger } from '../../../core/ports.ts';
import type { NoPick, ProfilePick, ProxyRequestInfo } from '../../../core/proxy/engine.ts';
import { keychainRecheckMs, LabEngine } from '../../../core/proxy/lab-engine.ts';
import { emptyRegistry } from '../../../core/profiles/schema.ts';
import { QuotaBook } from '../../../core/quota/quota-book.ts';
import { ActivityLog } from '../../../core/service/events.ts';
import { HealthStore } from '../../../core/state/health-store.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';
import { FakeClock } from '../router/fake-clock.ts';

function session(id: string, pin?: string): ProxyRequestInfo {
  return {
    kind: 'responses',
    method: 'POST',
    path: '/codex/responses',
    headers: { 'session-id': id, ...(pin ? { 'x-codex-lab-profile': pin } : {}) },
    body: null,
  };
}

async function engineWithKeychainProfile() {
  const home = tempFolder('codex-lab-keychain-engine-');
  const paths = labPaths(home);
  const clock = new FakeClock();
  const keychain = { locked: false, reads: 0 };
  const read = async (name: string) => {
    if (name !== 'vault') return;
    keychain.reads++;
    if (keychain.locked) {
      throw new LabError('keyring_unavailable', 'The OS keychain is not available (locked).', {
        details: { detail: 'Secret Service: unlock prompt was dismissed' },
      });
    }
  };
  const registry = emptyRegistry();
  // The spare's file holds tokens (a missing one would take it out of every decision too).
  const spareFile = join(home, 'spare.json');
  writeFileSync(
    spareFile,
    JSON.stringify({ tokens: { id_token: 'id', access_token: 'token', refresh_token: 'r' } }),
  );
  const engine = new LabEngine({
    paths,
    store: {
      readRegistry: async () => registry,
      listProfiles: async () => [{ name: 'vault' }, { name: 'spare' }],
      // The vault's tokens are in the keychain: no file to check once a second.
      authFileOf: (entry) => (entry.name === 'vault' ? null : spareFile),
      readAuth: read,
    },
    health: new HealthStore(paths),
    credentials: {
      getCredentials: async (name) => {
        await read(name);
        return { accessToken: 'token', accountId: null };
      },
      refreshAfterUnauthorized: async () => ({ accessToken: 'token', accountId: null }),
    },
    activity: new ActivityLog(clock),
    quota: new QuotaBook({
      clock,
      path: join(home, 'quota.json'),
      logger: silentLogger,
      write: async () => undefined,
    }),
    clock,
    logger: silentLogger,
  });
  await engine.load();
  onTestFinished(() => engine.settled());
  const route = async (id: string, pin?: string) =>
    await engine.prepare(session(id, pin)).choose(new Map());
  /** A request served by `profile`, as the server does it: credentials, or the failure noted. */
  const serve = async (profile: string) => {
    try {
      await engine.credentials(profile);
    } catch (error) {
      engine.noteCredentialFailure(profile, error as LabError);
    }
  };
  return { engine, clock, keychain, route, serve };
}

describe('a keychain profile whose keychain is locked', () => {
  it('is out of every decision from the failed read on, and back once a re-check reads it', async () => {
    const { engine, clock, keychain, route, serve } = await engineWithKeychainProfile();
    keychain.locked = true;
    expect(await route('s1')).toMatchObject({ ok: true, profile: 'vault' });
    await serve('vault');

    const sentence =
      "The OS keychain is locked or unavailable (Secret Service: unlock prompt was dismissed), so vault's sign-in cannot be read: unlock the keychain (Codex Lab tries it again within 15 s).";
    expect(engine.health('vault')).toMatchObject({
      status: 'auth_error',
      code: 'keyring_unavailable',
      message: sentence,
    });
    expect(((await route('s2')) as ProfilePick).profile).toBe('spare');
    const pinned = (await route('s3', 'vault')) as NoPick;
    expect(pinned).toMatchObject({ ok: false, status: 400, code: 'keyring_unavailable' });
    expect(pinned.message).toBe(`The pinned profile vault cannot be used: ${sentence}`);

    // Still locked at the re-check: still out, and checked again later.
    const reads = keychain.reads;
    clock.advance(keychainRecheckMs);
    await engine.settled();
    expect(keychain.reads).toBe(reads + 1);
    expect(engine.health('vault').status).toBe('auth_error');

    // Unlocked: the next re-check, with no request at all, brings it back.
    keychain.locked = false;
    clock.advance(keychainRecheckMs);
    await engine.settled();
    expect(engine.health('vault').status).not.toBe('auth_error');
    expect(((await route('s4', 'vault')) as ProfilePick).profile).toBe('vault');
  });
});
