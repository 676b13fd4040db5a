/**
 * A sign-in again to an existing profile saves its tokens under the profile's refresh lock. A
 * router may hold that lock as long as a token refresh may legitimately take (the issuer's answer
 * has a 2-minute limit); a sign-in that still cannot take it must never be dropped: it is kept in
 * the journal and saved under the lock once its holder lets go, the newest sign-in winning.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLabError, LabError } from '../../../core/errors.ts';
import { refreshAnswerTimeoutMs, refreshLockWaitMs } from '../../../core/home/lock-waits.ts';
import { withLock } from '../../../core/home/lock.ts';
import { labPaths, type LabPaths } from '../../../core/home/paths.ts';
import type { KeyringPort } from '../../../core/profiles/keyring.ts';
import { ProfileStore } from '../../../core/profiles/store.ts';
import { silentLogger, type Logger } from '../../../core/ports.ts';
import { HealthStore } from '../../../core/state/health-store.ts';
import { journalRecords } from '../../helpers/journal-records.ts';
import { makeAuth, plantedRefreshToken, secretsOf } from '../../helpers/profile-auth.ts';

const alice = { email: 'alice@example.com', accountId: 'acct-alice' };

/** A keychain in memory whose writes fail while `locked` is set. */
function memoryKeyring(): KeyringPort & { locked: boolean } {
  const entries = new Map<string, string>();
  return {
    locked: false,
    get: async (account) => entries.get(account) ?? null,
    async set(account, value) {
      if (this.locked) throw new LabError('keyring_unavailable', 'The OS keychain is locked.');
      entries.set(account, value);
    },
    delete: async (account) => void entries.delete(account),
  };
}

/** Signs in again as `alice` (generation `generation`) while her profile stays locked. */
async function keepSignIn(store: ProfileStore, generation: number): Promise<void> {
  const auth = makeAuth({ ...alice, generation });
  const failure = await store.saveSignIn({ auth, requestedName: null }).then(
    () => null,
    (error: unknown) => error,
  );
  expect(isLabError(failure) && failure.code).toBe('lock_timeout');
}

/** Holds `alice`'s refresh lock, as a router's slow refresh does, until `release` is called. */
function holdRefreshLock(paths: LabPaths): Promise<{ release(): Promise<void> }> {
  return new Promise((taken) => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const held = withLock(paths.locksDir, 'refresh-alice', async () => {
      taken({ release: async () => (release(), await held) });
      await released;
    });
  });
}

describe('a sign-in again while the profile is locked', () => {
  let home: string;
  let paths: LabPaths;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'codex-lab-sign-in-lock-'));
    paths = labPaths(home);
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('waits at least as long as a refresh may hold the lock', () => {
    expect(refreshLockWaitMs).toBeGreaterThan(refreshAnswerTimeoutMs);
  });

  it('keeps the sign-in when the lock stays held past the wait, and saves it once free', async () => {
    const store = new ProfileStore({ paths, refreshLockWaitMs: 50 });
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    const holder = await holdRefreshLock(paths);
    const again = makeAuth({ ...alice, generation: 2 });
    const failure = await store.saveSignIn({ auth: again, requestedName: 'alice' }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(isLabError(failure)).toBe(true);
    const message = (failure as Error).message;
    expect(message).toMatch(
      /^The sign-in as alice@example\.com was kept in .*state.journal.*\.json/,
    );
    expect(message.split('. ').length).toBe(1);
    for (const secret of secretsOf(again)) expect(message).not.toContain(secret);

    // While the holder (a refresh) runs, nothing writes under it: its answer must land first.
    await store.listProfiles();
    expect((await store.readAuth('alice')).tokens?.refresh_token).toBe(plantedRefreshToken(alice));

    await holder.release();
    await store.listProfiles();
    expect((await store.readAuth('alice')).tokens?.refresh_token).toBe(
      plantedRefreshToken({ ...alice, generation: 2 }),
    );
    expect(await readdir(paths.journalDir)).toEqual([]);
  });

  it('lets the newest sign-in win over every one kept before it', async () => {
    const store = new ProfileStore({ paths, refreshLockWaitMs: 50 });
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    const holder = await holdRefreshLock(paths);
    for (const generation of [2, 3]) {
      await store
        .saveSignIn({ auth: makeAuth({ ...alice, generation }), requestedName: null })
        .catch(() => undefined);
    }
    await holder.release();
    // A sign-in made once the lock is free is newer than both kept ones.
    await store.saveSignIn({ auth: makeAuth({ ...alice, generation: 4 }), requestedName: null });
    await store.listProfiles();
    expect((await store.readAuth('alice')).tokens?.refresh_token).toBe(
      plantedRefreshToken({ ...alice, generation: 4 }),
    );
    expect(await readdir(paths.journalDir)).toEqual([]);

    // Two kept ones alone: the later is what the profile ends up with.
    const second = await holdRefreshLock(paths);
    for (const generation of [5, 6]) {
      await store
        .saveSignIn({ auth: makeAuth({ ...alice, generation }), requestedName: null })
        .catch(() => undefined);
    }
    await second.release();
    await store.listProfiles();
    expect((await store.readAuth('alice')).tokens?.refresh_token).toBe(
      plantedRefreshToken({ ...alice, generation: 6 }),
    );
  });

  it('keeps a kept sign-in whose save fails, until a later load saves it', async () => {
    const keyring = memoryKeyring();
    const store = new ProfileStore({ paths, keyring, refreshLockWaitMs: 50 });
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null, store: 'keyring' });
    const holder = await holdRefreshLock(paths);
    await keepSignIn(store, 2);
    await holder.release();

    // The save fails halfway (the keychain locked): the record is the only copy of the tokens.
    keyring.locked = true;
    await store.listProfiles();
    expect(await journalRecords(paths)).toHaveLength(1);
    expect((await store.readAuth('alice')).tokens?.refresh_token).toBe(plantedRefreshToken(alice));

    keyring.locked = false;
    await store.listProfiles();
    expect((await store.readAuth('alice')).tokens?.refresh_token).toBe(
      plantedRefreshToken({ ...alice, generation: 2 }),
    );
    expect(await journalRecords(paths)).toEqual([]);
  });

  it('drops a kept sign-in whose profile was removed since, rather than bringing it back', async () => {
    const store = new ProfileStore({ paths, refreshLockWaitMs: 50 });
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    const holder = await holdRefreshLock(paths);
    await keepSignIn(store, 2);

    // The removal waits for the profile's refresh lock, then holds it itself while the journal
    // is replayed: the kept sign-in cannot be saved under it.
    let waiting!: () => void;
    const waits = new Promise<void>((resolve) => (waiting = resolve));
    const logger: Logger = {
      ...silentLogger,
      warn: (_fields, message) => {
        if (message?.startsWith('waiting for')) waiting();
      },
      child: () => logger,
    };
    const remover = new ProfileStore({ paths, logger });
    const removing = remover.remove('alice');
    await waits;
    await holder.release();
    await removing;
    expect(await store.listProfiles()).toEqual([]);
    expect(await journalRecords(paths)).toEqual([]);
  });

  it('marks the profile healthy, as of now, once a kept sign-in is saved', async () => {
    let now = Date.parse('2026-06-01T10:00:00Z');
    const store = new ProfileStore({ paths, refreshLockWaitMs: 50, now: () => now });
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    const health = new HealthStore(paths);
    await health.markAuthError('alice', 'refresh_token_reused', 'Sign in again.', now);
    const holder = await holdRefreshLock(paths);
    await keepSignIn(store, 2);
    await holder.release();

    now += 60_000;
    await store.listProfiles();
    // A router takes a health entry only when it is newer than its own mark: one deleted would
    // leave the profile refused as needing a sign-in.
    expect((await health.read()).profiles['alice']).toMatchObject({
      status: 'ok',
      updatedAt: now,
    });
  });
});
