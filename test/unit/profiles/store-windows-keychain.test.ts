/**
 * A keychain profile on Windows (the platform injected, so this runs anywhere): its entry sits
 * under the key Codex computes there (the hash of the verbatim `\\?\…` path), and an entry saved
 * by an older Codex Lab under the key without that prefix is read from there until its next write
 * (a renewal or a sign-in, each under its lock) puts the new tokens under Codex's key and then
 * deletes the old entry: a read never moves it, so a paused reader cannot put back a spent token.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../../core/home/paths.ts';
import { formerKeyringAccountFor, keyringAccountFor } from '../../../core/profiles/keyring.ts';
import { ProfileStore } from '../../../core/profiles/store.ts';
import { MemoryKeyring } from '../../fakes/memory-keyring.ts';
import { makeAuth, plantedRefreshToken } from '../../helpers/profile-auth.ts';

class Crash extends Error {}

/** An in-memory keychain that records its writes, and can refuse the next deletes. */
class RecordingKeyring extends MemoryKeyring {
  readonly writes: string[] = [];
  /** How many of the next deletes fail. */
  failDeletes = 0;

  override async set(account: string, value: string): Promise<void> {
    await super.set(account, value);
    this.writes.push(`set ${account}`);
  }

  override async delete(account: string): Promise<void> {
    if (this.failDeletes > 0) {
      this.failDeletes -= 1;
      throw new Error('the fake keychain refused this delete');
    }
    await super.delete(account);
    this.writes.push(`delete ${account}`);
  }
}

const alice = { email: 'alice@example.com', accountId: 'acct-alice' };

let home: string;
let paths: LabPaths;
let keyring: RecordingKeyring;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'codex-lab-winkey-'));
  paths = labPaths(home);
  keyring = new RecordingKeyring();
});
afterEach(() => rm(home, { recursive: true, force: true }));

/** A store as it runs on Windows. */
function windows(options: { step?: (point: string) => void } = {}): ProfileStore {
  return new ProfileStore({ paths, keyring, platform: 'win32', ...options });
}

/** The key Codex reads on Windows for profile `name`'s folder. */
const codexKey = (name: string) => keyringAccountFor(paths.profileDir(name), 'win32');
/** The key older Codex Lab versions kept it under on Windows. */
const olderKey = (name: string) => formerKeyringAccountFor(paths.profileDir(name), 'win32')!;

/**
 * A keychain profile `name` made by an older version on Windows: its entry under the older key
 * (what that version hashed everywhere: the realpath form, as on Linux today).
 */
async function olderKeychainProfile(name = 'alice'): Promise<string> {
  await new ProfileStore({ paths, keyring, platform: 'linux' }).saveSignIn({
    auth: makeAuth(alice),
    requestedName: name,
    store: 'keyring',
  });
  const text = keyring.entries.get(olderKey(name));
  expect(text).toBeDefined();
  keyring.writes.length = 0;
  return text!;
}

describe('a keychain profile on Windows', () => {
  it('is saved under the key Codex computes there, and only that one', async () => {
    await windows().saveSignIn({ auth: makeAuth(alice), requestedName: null, store: 'keyring' });
    expect(codexKey('alice')).not.toBe(olderKey('alice'));
    expect([...keyring.entries.keys()]).toEqual([codexKey('alice')]);
  });

  it('made by an older version is read from the old key, and moved by its next write: written first, then the old one deleted', async () => {
    const text = await olderKeychainProfile();
    expect((await windows().readAuth('alice')).tokens?.refresh_token).toBe(
      plantedRefreshToken(alice),
    );
    // A read writes nothing.
    expect(keyring.writes).toEqual([]);
    expect([...keyring.entries]).toEqual([[olderKey('alice'), text]]);
    const renewed = makeAuth(alice);
    await windows().writeAuth('alice', renewed);
    expect(keyring.writes).toEqual([`set ${codexKey('alice')}`, `delete ${olderKey('alice')}`]);
    expect([...keyring.entries.keys()]).toEqual([codexKey('alice')]);
    expect((await windows().readAuth('alice')).tokens?.refresh_token).toBe(
      renewed.tokens!.refresh_token,
    );
  });

  it('a reader paused on the old entry never puts back a token a renewal has spent', async () => {
    await olderKeychainProfile();
    const reader = windows();
    const renewed = makeAuth(alice);
    // The reader finds Codex's key empty; before it reads the old key, a renewal in another
    // process writes Codex's key and deletes the old entry.
    let paused = true;
    const get = keyring.get.bind(keyring);
    keyring.get = async (account: string) => {
      const value = await get(account);
      if (paused && account === codexKey('alice')) {
        paused = false;
        await windows().writeAuth('alice', renewed);
      }
      return value;
    };
    expect((await reader.readAuth('alice')).tokens?.refresh_token).toBe(
      renewed.tokens!.refresh_token,
    );
    expect([...keyring.entries.keys()]).toEqual([codexKey('alice')]);
    expect(JSON.parse(keyring.entries.get(codexKey('alice'))!).tokens.refresh_token).toBe(
      renewed.tokens!.refresh_token,
    );
  });

  it('keeps the spent old entry when it cannot be deleted, reads Codex’s key first, and a removal deletes both', async () => {
    await olderKeychainProfile();
    const renewed = makeAuth(alice);
    keyring.failDeletes = 1;
    await windows().writeAuth('alice', renewed);
    expect([...keyring.entries.keys()].sort()).toEqual(
      [codexKey('alice'), olderKey('alice')].sort(),
    );
    expect((await windows().readAuth('alice')).tokens?.refresh_token).toBe(
      renewed.tokens!.refresh_token,
    );
    await windows().remove('alice');
    expect(keyring.entries.size).toBe(0);
  });

  it('made by an older version is removed from the keychain by a removal', async () => {
    await olderKeychainProfile();
    await windows().remove('alice');
    expect(keyring.entries.size).toBe(0);
  });

  it('made by an older version is renamed to Codex’s key of the new folder, leaving nothing behind', async () => {
    const text = await olderKeychainProfile();
    await windows().rename('alice', 'work');
    expect([...keyring.entries]).toEqual([[codexKey('work'), text]]);
  });

  it('made by an older version and signed in again leaves no copy under the old key', async () => {
    await olderKeychainProfile();
    const again = makeAuth(alice);
    await windows().saveSignIn({ auth: again, requestedName: null, store: 'keyring' });
    expect([...keyring.entries.keys()]).toEqual([codexKey('alice')]);
    expect((await windows().readAuth('alice')).tokens?.refresh_token).toBe(
      again.tokens!.refresh_token,
    );
  });

  it('renamed by an older version that was killed after its registry write: the replay deletes the old entry under either key', async () => {
    const text = await olderKeychainProfile();
    // Both of alice's keys hold it (as after a move whose delete failed); taken while its folder
    // is there, since a key hashes the folder's canonical path.
    keyring.entries.set(codexKey('alice'), text);
    const older = new ProfileStore({
      paths,
      keyring,
      platform: 'linux',
      step: (point) => {
        if (point === 'rename:registry-written') throw new Crash(point);
      },
    });
    await expect(older.rename('alice', 'work')).rejects.toBeInstanceOf(Crash);
    const store = windows();
    expect((await store.listProfiles()).map((profile) => profile.name)).toEqual(['work']);
    expect((await store.readAuth('work')).tokens?.refresh_token).toBe(plantedRefreshToken(alice));
    // Where the older version copied it; its next write moves it to Codex's key.
    expect([...keyring.entries]).toEqual([[olderKey('work'), text]]);
  });

  it('renamed by an older version that was killed after its copy: the rollback deletes the copy under the old key', async () => {
    const text = await olderKeychainProfile();
    const older = new ProfileStore({
      paths,
      keyring,
      platform: 'linux',
      step: (point) => {
        if (point === 'rename:copied') throw new Crash(point);
      },
    });
    await expect(older.rename('alice', 'work')).rejects.toBeInstanceOf(Crash);
    expect(keyring.entries.get(olderKey('work'))).toBe(text);
    const store = windows();
    expect((await store.listProfiles()).map((profile) => profile.name)).toEqual(['alice']);
    expect((await store.readAuth('alice')).tokens?.refresh_token).toBe(plantedRefreshToken(alice));
    expect([...keyring.entries]).toEqual([[olderKey('alice'), text]]);
  });
});
