/**
 * A kept sign-in (a `signin` journal record: its profile stayed locked) is saved at most once, and
 * only over tokens signed in before it (a refresh that lands meanwhile does not count). Its record is deleted once the save lands; a delete that fails (a disk
 * error, a folder turned read-only) leaves it behind, and a later load must not save it again: by
 * then the router may have rotated its refresh token, and putting back a spent one ends the
 * account's sign-in. Deletes of `signin` records fail on demand here; everything else is the real
 * file system.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isLabError } from '../../../core/errors.ts';
import { withLock } from '../../../core/home/lock.ts';
import { labPaths, type LabPaths } from '../../../core/home/paths.ts';
import type { AuthDotJson } from '../../../core/profiles/schema.ts';
import { ProfileStore } from '../../../core/profiles/store.ts';
import { journalRecords } from '../../helpers/journal-records.ts';
import { makeAuth, plantedRefreshToken } from '../../helpers/profile-auth.ts';

const deletes = vi.hoisted(() => ({ failing: false }));
vi.mock('node:fs/promises', async (original) => {
  const real = await original<typeof import('node:fs/promises')>();
  return {
    ...real,
    rm: async (...args: Parameters<typeof real.rm>) => {
      if (deletes.failing && String(args[0]).endsWith('-signin.json')) {
        throw Object.assign(new Error(`EROFS: read-only file system, rm '${String(args[0])}'`), {
          code: 'EROFS',
        });
      }
      return real.rm(...args);
    },
  };
});

const alice = { email: 'alice@example.com', accountId: 'acct-alice' };
const minute = 60_000;
const start = Date.parse('2026-06-01T10:00:00Z');

/** Alice's sign-in number `generation`, made `minutes` after `start`. */
function signIn(generation: number, minutes: number): AuthDotJson {
  return { ...makeAuth({ ...alice, generation }), last_refresh: iso(minutes) };
}

/** Alice's tokens after the router refreshed `from`, `minutes` after `start`. */
function refreshed(from: AuthDotJson, minutes: number): AuthDotJson {
  const tokens = from.tokens;
  if (!tokens) throw new Error('no tokens to refresh');
  return {
    ...from,
    tokens: { ...tokens, refresh_token: `${tokens.refresh_token}-ROTATED-${minutes}` },
    last_refresh: iso(minutes),
  };
}

function iso(minutes: number): string {
  return new Date(start + minutes * minute).toISOString();
}

/** Holds alice's refresh lock, as a router's refresh does, until `release` is called. */
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

/** Signs in as `auth` while alice's profile stays locked: the sign-in is kept in the journal. */
async function keep(store: ProfileStore, auth: AuthDotJson): Promise<void> {
  const failure = await store.saveSignIn({ auth, requestedName: null }).then(
    () => null,
    (error: unknown) => error,
  );
  expect(isLabError(failure) && failure.code).toBe('lock_timeout');
}

describe('a kept sign-in', () => {
  let home: string;
  let paths: LabPaths;
  let now: number;
  let store: ProfileStore;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'codex-lab-kept-sign-in-'));
    paths = labPaths(home);
    now = start;
    store = new ProfileStore({ paths, refreshLockWaitMs: 50, now: () => now });
    await store.saveSignIn({ auth: signIn(1, 0), requestedName: null });
  });
  afterEach(async () => {
    deletes.failing = false;
    await rm(home, { recursive: true, force: true });
  });

  const heldRefreshToken = async () => (await store.readAuth('alice')).tokens?.refresh_token;

  it('is saved once, even when its record cannot be deleted', async () => {
    const holder = await holdRefreshLock(paths);
    const second = signIn(2, 1);
    await keep(store, second);
    await holder.release();

    deletes.failing = true;
    now = start + 2 * minute;
    await store.listProfiles();
    expect(await heldRefreshToken()).toBe(plantedRefreshToken({ ...alice, generation: 2 }));
    expect(await journalRecords(paths)).toHaveLength(1);

    // The router refreshes the saved sign-in: the refresh token the record holds is spent now.
    const rotated = refreshed(second, 3);
    await store.writeAuth('alice', rotated);

    deletes.failing = false;
    now = start + 4 * minute;
    await store.listProfiles();
    expect(await heldRefreshToken()).toBe(rotated.tokens?.refresh_token);
    expect(await journalRecords(paths)).toEqual([]);
  });

  it('is saved over a refresh that landed after it: the refresh began from the older sign-in', async () => {
    const holder = await holdRefreshLock(paths);
    const second = signIn(2, 1);
    await keep(store, second);
    // The holder's refresh lands after the sign-in was kept (a slow refresh, a router resumed
    // after a stop): its tokens are newer by the clock, but they are the first sign-in's.
    const rotated = refreshed(signIn(1, 0), 2);
    await store.writeAuth('alice', rotated);
    await holder.release();

    now = start + 3 * minute;
    await store.listProfiles();
    // The user signed in again: that sign-in is what the profile holds now, as the command said.
    expect(await heldRefreshToken()).toBe(plantedRefreshToken({ ...alice, generation: 2 }));
    expect(await journalRecords(paths)).toEqual([]);
  });

  it('on a profile signed in before sign-in times were recorded, defers to newer tokens', async () => {
    const holder = await holdRefreshLock(paths);
    await keep(store, signIn(2, 1));
    const rotated = refreshed(signIn(1, 0), 2);
    await store.writeAuth('alice', rotated);
    // The registry as an earlier version wrote it: no `signedInAt`.
    const registryPath = paths.registry;
    const registry = JSON.parse(await readFile(registryPath, 'utf8')) as {
      profiles: Array<Record<string, unknown>>;
    };
    for (const record of registry.profiles) delete record['signedInAt'];
    await writeFile(registryPath, JSON.stringify(registry));
    await holder.release();

    now = start + 3 * minute;
    await store.listProfiles();
    expect(await heldRefreshToken()).toBe(rotated.tokens?.refresh_token);
    expect(await journalRecords(paths)).toEqual([]);
  });

  it('never lands over a later sign-in that could not delete it', async () => {
    const holder = await holdRefreshLock(paths);
    await keep(store, signIn(2, 1));
    await holder.release();

    // Signed in again (the lock free now): saved, though the older record cannot be deleted.
    deletes.failing = true;
    now = start + 2 * minute;
    await store.saveSignIn({ auth: signIn(3, 2), requestedName: null });
    expect(await heldRefreshToken()).toBe(plantedRefreshToken({ ...alice, generation: 3 }));
    expect(await journalRecords(paths)).toHaveLength(1);

    deletes.failing = false;
    now = start + 3 * minute;
    await store.listProfiles();
    expect(await heldRefreshToken()).toBe(plantedRefreshToken({ ...alice, generation: 3 }));
    expect(await journalRecords(paths)).toEqual([]);
  });
});
