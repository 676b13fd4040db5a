/**
 * Multi-step profile operations interrupted at each step (issue 9, item 3): the store's step hook
 * stops the operation exactly there, as a kill would, and the next load must complete or roll it
 * back: tokens never hidden in an unlisted folder, never reported as "sign in again", and a legacy
 * rename never leaves two profiles holding one refresh token.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../../core/home/paths.ts';
import { ProfileStore } from '../../../core/profiles/store.ts';
import { keyringAccountFor } from '../../../core/profiles/keyring.ts';
import { MemoryKeyring } from '../../fakes/memory-keyring.ts';
import { makeAuth } from '../../helpers/profile-auth.ts';

class Crash extends Error {}

let home: string;
let paths: LabPaths;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'codex-lab-journal-'));
  paths = labPaths(home);
});
afterEach(() => rm(home, { recursive: true, force: true }));

/** A store that "dies" at `point`. */
function crashingAt(point: string, keyring?: MemoryKeyring): ProfileStore {
  return new ProfileStore({
    paths,
    ...(keyring ? { keyring } : {}),
    step: (reached) => {
      if (reached === point) throw new Crash(point);
    },
  });
}

async function expectCrash(work: Promise<unknown>): Promise<void> {
  await expect(work).rejects.toBeInstanceOf(Crash);
}

/** Every refresh token stored under auth-profiles/ and the legacy file, by where it is. */
async function storedRefreshTokens(): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const read = async (path: string) => {
    try {
      const auth = JSON.parse(await readFile(path, 'utf8')) as {
        tokens?: { refresh_token?: string };
      };
      if (auth.tokens?.refresh_token) found.set(path, auth.tokens.refresh_token);
    } catch {
      // missing
    }
  };
  await read(paths.legacyAuth);
  for (const name of await readdir(paths.profilesDir).catch(() => [] as string[])) {
    await read(paths.profileAuth(name));
  }
  return found;
}

describe('an interrupted rename', () => {
  it('is completed on the next load once the folder has moved', async () => {
    const store = new ProfileStore({ paths });
    const auth = makeAuth({ email: 'a@example.com', accountId: 'acct-a' });
    await store.saveSignIn({ auth, requestedName: 'alice' });
    await store.setPin('repo', '/src/app', 'alice');
    await expectCrash(crashingAt('rename:moved').rename('alice', 'work'));
    // Before the fix the registry still said "alice" and its tokens sat in an unlisted folder.
    const next = new ProfileStore({ paths });
    expect((await next.listProfiles()).map((p) => p.name)).toEqual(['work']);
    expect((await next.readAuth('work')).tokens!.refresh_token).toBe(auth.tokens!.refresh_token);
    expect((await next.readRegistry()).pins.repos['/src/app']!.profile).toBe('work');
    expect(await readdir(paths.journalDir)).toEqual([]);
  });

  it('of the legacy default is completed, with exactly one copy of its refresh token', async () => {
    const auth = makeAuth({ email: 'legacy@example.com', accountId: 'acct-l' });
    await writeFile(paths.legacyAuth, JSON.stringify(auth));
    await expectCrash(crashingAt('rename:moved').rename('default', 'home'));
    const next = new ProfileStore({ paths });
    expect((await next.listProfiles()).map((p) => p.name)).toEqual(['home']);
    const copies = [...(await storedRefreshTokens()).values()].filter(
      (token) => token === auth.tokens!.refresh_token,
    );
    expect(copies).toHaveLength(1);
  });

  it('of the legacy default, when it completes normally, leaves one copy too', async () => {
    const auth = makeAuth({ email: 'legacy@example.com', accountId: 'acct-l' });
    await writeFile(paths.legacyAuth, JSON.stringify(auth));
    const store = new ProfileStore({ paths });
    await store.rename('default', 'home');
    expect((await store.listProfiles()).map((p) => p.name)).toEqual(['home']);
    expect([...(await storedRefreshTokens()).keys()]).toEqual([paths.profileAuth('home')]);
  });

  it('before anything moved is rolled back: the profile keeps its name and tokens', async () => {
    const store = new ProfileStore({ paths });
    const auth = makeAuth({ email: 'a@example.com', accountId: 'acct-a' });
    await store.saveSignIn({ auth, requestedName: 'alice' });
    // A journal record written, then the process died before the move.
    const { writeJournal } = await import('../../../core/profiles/journal.ts');
    const record = (await store.readRegistry()).profiles[0]!;
    await writeJournal(paths.journalDir, {
      op: 'rename',
      from: 'alice',
      to: 'work',
      legacy: false,
      record: { ...record, name: 'work' },
    });
    const next = new ProfileStore({ paths });
    expect((await next.listProfiles()).map((p) => p.name)).toEqual(['alice']);
    expect((await next.readAuth('alice')).tokens!.refresh_token).toBe(auth.tokens!.refresh_token);
  });
});

describe('an interrupted rename of a keychain profile', () => {
  const auth = makeAuth({ email: 'k@example.com', accountId: 'acct-k' });

  async function keychainProfile(keyring: MemoryKeyring): Promise<void> {
    await new ProfileStore({ paths, keyring }).saveSignIn({
      auth,
      requestedName: 'alice',
      store: 'keyring',
    });
  }

  /** The keychain entries holding alice's refresh token, by the folder their key is for. */
  function holders(keyring: MemoryKeyring): string[] {
    return ['alice', 'k4']
      .filter((name) =>
        keyring.entries
          .get(keyringAccountFor(paths.profileDir(name)))
          ?.includes(auth.tokens!.refresh_token),
      )
      .sort();
  }

  it('rolled back after the new entry was written leaves no copy under the target’s key', async () => {
    const keyring = new MemoryKeyring();
    await keychainProfile(keyring);
    await expectCrash(crashingAt('rename:copied', keyring).rename('alice', 'k4'));
    const next = new ProfileStore({ paths, keyring });
    expect((await next.listProfiles()).map((p) => p.name)).toEqual(['alice']);
    expect((await next.readAuth('alice')).tokens!.refresh_token).toBe(auth.tokens!.refresh_token);
    expect(holders(keyring)).toEqual(['alice']);
    expect(keyring.entries.size).toBe(1);
    expect(await readdir(paths.journalDir)).toEqual([]);
  });

  it('rolled back because the registry could not be written leaves no copy either', async () => {
    const keyring = new MemoryKeyring();
    await keychainProfile(keyring);
    const registry = await readFile(paths.registry, 'utf8');
    const store = new ProfileStore({
      paths,
      keyring,
      // The registry cannot be replaced once the new entry is written.
      step: async (point) => {
        if (point !== 'rename:copied') return;
        await rm(paths.registry);
        await mkdir(paths.registry);
      },
    });
    await expect(store.rename('alice', 'k4')).rejects.toThrow();
    await rm(paths.registry, { recursive: true });
    await writeFile(paths.registry, registry, { mode: 0o600 });
    expect(holders(keyring)).toEqual(['alice']);
    expect(keyring.entries.size).toBe(1);
    expect((await store.listProfiles()).map((p) => p.name)).toEqual(['alice']);
  });

  it('rolled back never deletes an entry under the target’s key that is not its copy', async () => {
    const keyring = new MemoryKeyring();
    await keychainProfile(keyring);
    await expectCrash(crashingAt('rename:copied', keyring).rename('alice', 'k4'));
    // Something else wrote under that key meanwhile (stock Codex pointed at the folder).
    const other = JSON.stringify(makeAuth({ email: 'o@example.com', accountId: 'acct-o' }));
    keyring.entries.set(keyringAccountFor(paths.profileDir('k4')), other);
    await new ProfileStore({ paths, keyring }).listProfiles();
    expect(keyring.entries.get(keyringAccountFor(paths.profileDir('k4')))).toBe(other);
  });

  it('is replayed again while the keychain is out of reach, and the profile stays where it was', async () => {
    const keyring = new MemoryKeyring();
    await keychainProfile(keyring);
    await expectCrash(crashingAt('rename:copied', keyring).rename('alice', 'k4'));
    keyring.outage = 'all';
    await new ProfileStore({ paths, keyring }).listProfiles().catch(() => undefined);
    expect(await readdir(paths.journalDir)).toHaveLength(1);
    keyring.outage = 'none';
    const next = new ProfileStore({ paths, keyring });
    expect((await next.listProfiles()).map((p) => p.name)).toEqual(['alice']);
    expect(holders(keyring)).toEqual(['alice']);
  });
});

describe('an interrupted new-profile sign-in', () => {
  it('lists the profile whose tokens were written before the kill', async () => {
    const auth = makeAuth({ email: 'new@example.com', accountId: 'acct-n' });
    await expectCrash(crashingAt('add:tokens-written').saveSignIn({ auth, requestedName: 'new' }));
    const next = new ProfileStore({ paths });
    expect((await next.listProfiles()).map((p) => p.name)).toEqual(['new']);
    expect((await next.readAuth('new')).tokens!.refresh_token).toBe(auth.tokens!.refresh_token);
  });
});

describe('an interrupted new keychain sign-in', () => {
  it('keeps its record and folder while the keychain cannot be read, and lists the profile once it can', async () => {
    const keyring = new MemoryKeyring();
    const auth = makeAuth({ email: 'new@example.com', accountId: 'acct-n' });
    await expectCrash(
      crashingAt('add:tokens-written', keyring).saveSignIn({
        auth,
        requestedName: 'new',
        store: 'keyring',
      }),
    );
    keyring.outage = 'all';
    await new ProfileStore({ paths, keyring }).listProfiles();
    // Before, an unreadable keychain counted as "no tokens": the folder went, and the entry's
    // live refresh token stayed under a key no profile would list.
    expect(await readdir(paths.journalDir)).toHaveLength(1);
    expect(await readdir(paths.profilesDir)).toEqual(['new']);
    keyring.outage = 'none';
    const next = new ProfileStore({ paths, keyring });
    expect((await next.listProfiles()).map((p) => p.name)).toEqual(['new']);
    expect((await next.readAuth('new')).tokens!.refresh_token).toBe(auth.tokens!.refresh_token);
  });
});

describe('an interrupted remove', () => {
  it('is completed: no tokens left in a folder the registry no longer lists', async () => {
    const store = new ProfileStore({ paths });
    await store.saveSignIn({
      auth: makeAuth({ email: 'a@example.com', accountId: 'acct-a' }),
      requestedName: 'alice',
    });
    await store.saveSignIn({
      auth: makeAuth({ email: 'b@example.com', accountId: 'acct-b' }),
      requestedName: 'bob',
    });
    await expectCrash(crashingAt('remove:registry-written').remove('alice'));
    const next = new ProfileStore({ paths });
    expect((await next.listProfiles()).map((p) => p.name)).toEqual(['bob']);
    expect(await readdir(paths.profilesDir)).toEqual(['bob']);
  });
});
