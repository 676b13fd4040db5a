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
import { isLabError } from '../../../core/errors.ts';
import { refreshAnswerTimeoutMs, refreshLockWaitMs } from '../../../core/home/lock-waits.ts';
import { withLock } from '../../../core/home/lock.ts';
import { labPaths, type LabPaths } from '../../../core/home/paths.ts';
import { ProfileStore } from '../../../core/profiles/store.ts';
import { makeAuth, plantedRefreshToken, secretsOf } from '../../helpers/profile-auth.ts';

const alice = { email: 'alice@example.com', accountId: 'acct-alice' };

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
});
