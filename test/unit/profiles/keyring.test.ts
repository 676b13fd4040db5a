import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, realpath, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, win32 } from 'node:path';
import { AsyncEntry } from '@napi-rs/keyring';
import { afterAll, describe, expect, it } from 'vitest';
import { LabError } from '../../../core/errors.ts';
import { labPaths } from '../../../core/home/paths.ts';
import {
  createSystemKeyring,
  formerKeyringAccountFor,
  keychainCure,
  keyringAccountFor,
  keyringFailureReason,
  keyringService,
  probeKeyring,
  type KeyringPort,
} from '../../../core/profiles/keyring.ts';
import { ProfileStore } from '../../../core/profiles/store.ts';
import { makeAuth, plantedRefreshToken } from '../../helpers/profile-auth.ts';

const expectedKey = (path: string) =>
  `cli|${createHash('sha256').update(path).digest('hex').slice(0, 16)}`;

describe('keyringAccountFor', () => {
  it('hashes the canonical folder path exactly as Codex does', async () => {
    const base = await realpath(await mkdtemp(join(tmpdir(), 'codex-lab-key-')));
    const real = join(base, 'real');
    await mkdir(real);
    await symlink(real, join(base, 'link'));
    expect(keyringAccountFor(real)).toBe(expectedKey(real));
    expect(keyringAccountFor(join(base, 'link'))).toBe(expectedKey(real));
    // A folder that does not exist is hashed as given (Codex's fallback).
    expect(keyringAccountFor(join(base, 'missing'))).toBe(expectedKey(join(base, 'missing')));
    // A fixed vector, so a change to the derivation cannot hide behind the helper above.
    expect(keyringAccountFor('/nonexistent/codex-home')).toBe('cli|b5d85b424b15c4d9');
    await rm(base, { recursive: true, force: true });
  });
});

describe('keyringAccountFor on Windows', () => {
  // Windows paths under Node on any platform: path.win32 builds them, and a stand-in realpath
  // answers as Node's does on Windows (no verbatim prefix), for the folders that exist.
  const home = win32.join('C:\\Users\\me', '.codex-lab');
  const work = win32.join(home, 'auth-profiles', 'work');
  const share = win32.join('\\\\server\\share\\lab', 'auth-profiles', 'work');
  const canonical = new Map<string, string>([
    [work, work],
    // A link (a junction, a different case) to the same folder.
    [win32.join('C:\\Users\\me', 'link-to-work'), work],
    [share, share],
  ]);
  const realpath = (path: string): string => {
    const found = canonical.get(path);
    if (found === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return found;
  };

  it('hashes the verbatim form Rust’s canonicalize returns for a drive path', () => {
    const literal = '\\\\?\\C:\\Users\\me\\.codex-lab\\auth-profiles\\work';
    expect(keyringAccountFor(work, 'win32', realpath)).toBe(expectedKey(literal));
    // A fixed vector, computed apart from this code.
    expect(keyringAccountFor(work, 'win32', realpath)).toBe('cli|f0e745997e85f95a');
    expect(keyringAccountFor(win32.join('C:\\Users\\me', 'link-to-work'), 'win32', realpath)).toBe(
      expectedKey(literal),
    );
  });

  it('hashes the verbatim UNC form for a path on a share', () => {
    const literal = '\\\\?\\UNC\\server\\share\\lab\\auth-profiles\\work';
    expect(keyringAccountFor(share, 'win32', realpath)).toBe(expectedKey(literal));
    expect(keyringAccountFor(share, 'win32', realpath)).toBe('cli|3d71a199662ca022');
  });

  it('hashes the path as given when it cannot be canonicalized, as Codex falls back', () => {
    const missing = win32.join(home, 'auth-profiles', 'missing');
    expect(keyringAccountFor(missing, 'win32', realpath)).toBe(expectedKey(missing));
    expect(formerKeyringAccountFor(missing, 'win32', realpath)).toBeNull();
  });

  it('names the key older Codex Lab versions used there, and none on other platforms', () => {
    expect(formerKeyringAccountFor(work, 'win32', realpath)).toBe(expectedKey(work));
    expect(formerKeyringAccountFor(share, 'win32', realpath)).toBe(expectedKey(share));
    // On macOS and Linux the key never changed: nothing to move.
    expect(formerKeyringAccountFor(work, 'linux', realpath)).toBeNull();
    expect(formerKeyringAccountFor(work, 'darwin', realpath)).toBeNull();
    expect(keyringAccountFor(work, 'darwin', realpath)).toBe(expectedKey(work));
  });
});

const probe = await probeKeyring();
if (!probe.available) {
  console.warn(`[keyring] skipping the real-keychain tests: ${probe.reason}`);
}

describe.skipIf(!probe.available)('the real OS keychain (Secret Service)', () => {
  const homes: string[] = [];
  afterAll(async () => {
    for (const home of homes) await rm(home, { recursive: true, force: true });
  });

  it('round-trips a keyring profile through sign-in, read, rename and remove', async () => {
    const home = await mkdtemp(join(tmpdir(), 'codex-lab-keyring-'));
    homes.push(home);
    const paths = labPaths(home);
    const store = new ProfileStore({ paths, keyring: createSystemKeyring() });
    const account = {
      email: `k${randomBytes(4).toString('hex')}@example.com`,
      accountId: 'acct-k',
    };
    const { name } = await store.saveSignIn({
      auth: makeAuth(account),
      requestedName: null,
      store: 'keyring',
    });
    await expect(stat(paths.profileAuth(name))).rejects.toThrow();
    // Read back with a fresh entry, as stock Codex would.
    const key = keyringAccountFor(paths.profileDir(name));
    const raw = await new AsyncEntry(keyringService, key).getPassword();
    expect(JSON.parse(raw ?? 'null').tokens.refresh_token).toBe(plantedRefreshToken(account));
    expect((await store.readAuth(name)).tokens?.refresh_token).toBe(plantedRefreshToken(account));

    await store.rename(name, 'renamed');
    const newKey = keyringAccountFor(paths.profileDir('renamed'));
    expect(await new AsyncEntry(keyringService, key).getPassword()).toBeNull();
    expect(await new AsyncEntry(keyringService, newKey).getPassword()).toContain('acct-k');

    await store.remove('renamed');
    expect(await new AsyncEntry(keyringService, newKey).getPassword()).toBeNull();
  });

  it('keeps refreshed tokens a failed keychain write left in the journal until the keychain answers, then saves them to the entry', async () => {
    const home = await mkdtemp(join(tmpdir(), 'codex-lab-keyring-'));
    homes.push(home);
    const paths = labPaths(home);
    const real = createSystemKeyring();
    // The real keychain, cut off on cue the way a dead daemon is (every call refused).
    let down = false;
    const cutOff = <T>(call: () => Promise<T>): Promise<T> =>
      down
        ? Promise.reject(new LabError('keyring_unavailable', 'The OS keychain is not available.'))
        : call();
    const keyring: KeyringPort = {
      get: (account) => cutOff(() => real.get(account)),
      set: (account, value) => cutOff(() => real.set(account, value)),
      delete: (account) => cutOff(() => real.delete(account)),
    };
    const store = new ProfileStore({ paths, keyring });
    const account = {
      email: `k${randomBytes(4).toString('hex')}@example.com`,
      accountId: 'acct-r',
    };
    const { name } = await store.saveSignIn({
      auth: makeAuth(account),
      requestedName: null,
      store: 'keyring',
    });
    const rotated = makeAuth({ ...account, generation: 2 });
    await store.saveRecoveredTokens(name, rotated, plantedRefreshToken(account));
    down = true;
    await store.listProfiles();
    expect(await readdir(paths.journalDir)).toHaveLength(1);
    down = false;
    await store.listProfiles();
    expect(await readdir(paths.journalDir)).toEqual([]);
    const key = keyringAccountFor(paths.profileDir(name));
    const raw = await new AsyncEntry(keyringService, key).getPassword();
    expect(JSON.parse(raw ?? 'null').tokens.refresh_token).toBe(rotated.tokens!.refresh_token);
    await store.remove(name);
  });
});

describe('probeKeyring', () => {
  it('gives the backend’s own words as the reason, not the sentence wrapped around them', async () => {
    const bus = process.env['DBUS_SESSION_BUS_ADDRESS'];
    process.env['DBUS_SESSION_BUS_ADDRESS'] = bus ?? 'unix:path=/nonexistent';
    try {
      const failing: KeyringPort = {
        get: async () => null,
        set: async () => {
          throw new LabError(
            'keyring_unavailable',
            "The OS keychain is not available (Couldn't access platform storage); unlock it, or use the file store.",
            { details: { detail: "Couldn't access platform storage" } },
          );
        },
        delete: async () => undefined,
      };
      expect(await probeKeyring(failing)).toEqual({
        available: false,
        reason: "Couldn't access platform storage",
      });
    } finally {
      if (bus === undefined) delete process.env['DBUS_SESSION_BUS_ADDRESS'];
      else process.env['DBUS_SESSION_BUS_ADDRESS'] = bus;
    }
  });
});

describe('keyringFailureReason', () => {
  it('words one cause one way: a D-Bus autolaunch failure reads as the probe’s missing bus', async () => {
    const bus = process.env['DBUS_SESSION_BUS_ADDRESS'];
    delete process.env['DBUS_SESSION_BUS_ADDRESS'];
    let probed: Awaited<ReturnType<typeof probeKeyring>>;
    try {
      probed = await probeKeyring();
    } finally {
      if (bus !== undefined) process.env['DBUS_SESSION_BUS_ADDRESS'] = bus;
    }
    if (process.platform !== 'linux' || probed.available) return;
    const broker =
      'Platform failure: DBus error: Using X11 for dbus-daemon autolaunch was disabled at compile time, set your DBUS_SESSION_BUS_ADDRESS instead\nmore';
    expect(keyringFailureReason(broker)).toBe(probed.reason);
    expect(keyringFailureReason(probed.reason)).toBe(probed.reason);
    expect(keyringFailureReason('Secret Service: unlock prompt was dismissed\nmore')).toBe(
      'Secret Service: unlock prompt was dismissed',
    );
    expect(keychainCure(broker)).toBe(
      'run Codex Lab in the desktop session whose keychain keeps it',
    );
    expect(keychainCure('Secret Service: unlock prompt was dismissed')).toBe('unlock the keychain');
  });
});
