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
import { journalRecords } from '../../helpers/journal-records.ts';
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

/** Everything a refused operation must leave as it was: registry, folders, tokens, health, journal. */
async function snapshot(): Promise<string> {
  const folders = (await readdir(paths.profilesDir).catch(() => [] as string[])).sort();
  return JSON.stringify([
    await readFile(paths.registry, 'utf8'),
    folders,
    [...(await storedRefreshTokens()).entries()],
    await readFile(paths.health, 'utf8').catch(() => null),
    await journalRecords(paths),
  ]);
}

describe('a health.json that does not read', () => {
  const alpha = makeAuth({ email: 'alpha@example.com', accountId: 'acct-alpha' });
  const beta = makeAuth({ email: 'beta@example.com', accountId: 'acct-beta' });

  beforeEach(async () => {
    const store = new ProfileStore({ paths });
    await store.saveSignIn({ auth: alpha, requestedName: 'alpha' });
    await store.saveSignIn({ auth: beta, requestedName: 'beta' });
    await mkdir(paths.stateDir, { recursive: true });
    await writeFile(paths.health, '{"broken', { mode: 0o600 });
  });

  it.each([
    ['remove', (store: ProfileStore) => store.remove('beta'), /beta was not removed/],
    ['rename', (store: ProfileStore) => store.rename('alpha', 'gamma'), /alpha was not renamed/],
  ])(
    'refuses a %s before anything moves, naming the file, and leaves no record',
    async (_op, run, said) => {
      const before = await snapshot();
      const error = await run(new ProfileStore({ paths })).then(
        () => null,
        (caught: unknown) => caught as { code: string; message: string },
      );
      // Before, the operation applied and then failed on health.json: the user was told it had
      // failed, and its journal record stayed behind to be replayed later.
      expect(error?.code).toBe('corrupt_file');
      expect(error?.message).toMatch(said);
      expect(error?.message).toContain(paths.health);
      expect(await snapshot()).toBe(before);
      expect(await readFile(paths.health, 'utf8')).toBe('{"broken');
    },
  );

  it('damaged once a remove is past its point of no return: the remove completes and leaves no record', async () => {
    await rm(paths.health);
    const store = new ProfileStore({
      paths,
      step: async (point) => {
        if (point === 'remove:registry-written') await writeFile(paths.health, '{"broken');
      },
    });
    // Before, the remove went through and then failed on health.json, keeping its record.
    await store.remove('beta');
    expect((await store.listProfiles()).map((p) => p.name)).toEqual(['alpha']);
    expect(await readdir(paths.profilesDir)).toEqual(['alpha']);
    expect(await journalRecords(paths)).toEqual([]);
    expect(await readFile(paths.health, 'utf8')).toBe('{"broken');
  });

  it('never costs an account its sign-in: remove beta, rename alpha to beta, mend the file', async () => {
    await new ProfileStore({ paths }).remove('beta').catch(() => undefined);
    await new ProfileStore({ paths }).rename('alpha', 'beta').catch(() => undefined);
    // A router running meanwhile loads the profiles (and replays the journal) before the mend.
    await new ProfileStore({ paths }).listProfiles();
    await rm(paths.health);
    const next = new ProfileStore({ paths });
    const profiles = await next.listProfiles();
    // Before, the leftover "remove beta" record was replayed and deleted auth-profiles/beta,
    // which by then held alpha's tokens.
    const holder = profiles.find((profile) => profile.email === 'alpha@example.com');
    expect(holder).toBeDefined();
    expect((await next.readAuth(holder!.name)).tokens!.refresh_token).toBe(
      alpha.tokens!.refresh_token,
    );
    expect(await journalRecords(paths)).toEqual([]);
  });
});

describe('a leftover record for a name another account holds now', () => {
  const alpha = makeAuth({ email: 'alpha@example.com', accountId: 'acct-alpha' });
  const beta = { email: 'beta@example.com', accountId: 'acct-beta' };

  it('of a remove leaves that profile alone and is dropped', async () => {
    const store = new ProfileStore({ paths });
    await store.saveSignIn({ auth: alpha, requestedName: 'beta' });
    const { writeJournal } = await import('../../../core/profiles/journal.ts');
    await writeJournal(paths.journalDir, {
      op: 'remove',
      name: 'beta',
      keyring: false,
      legacy: false,
      account: beta,
    });
    const next = new ProfileStore({ paths });
    expect((await next.listProfiles()).map((p) => [p.name, p.email])).toEqual([
      ['beta', 'alpha@example.com'],
    ]);
    expect((await next.readAuth('beta')).tokens!.refresh_token).toBe(alpha.tokens!.refresh_token);
    expect(await journalRecords(paths)).toEqual([]);
  });

  it('of a remove written before records named their account leaves a listed profile alone', async () => {
    const store = new ProfileStore({ paths });
    await store.saveSignIn({ auth: alpha, requestedName: 'beta' });
    const { writeJournal } = await import('../../../core/profiles/journal.ts');
    await writeJournal(paths.journalDir, {
      op: 'remove',
      name: 'beta',
      keyring: false,
      legacy: false,
    });
    const next = new ProfileStore({ paths });
    expect((await next.listProfiles()).map((p) => p.name)).toEqual(['beta']);
    expect((await next.readAuth('beta')).tokens!.refresh_token).toBe(alpha.tokens!.refresh_token);
    expect(await journalRecords(paths)).toEqual([]);
  });

  it('of a remove still completes for its own account', async () => {
    const store = new ProfileStore({ paths });
    await store.saveSignIn({ auth: alpha, requestedName: 'alpha' });
    const { writeJournal } = await import('../../../core/profiles/journal.ts');
    await writeJournal(paths.journalDir, {
      op: 'remove',
      name: 'alpha',
      keyring: false,
      legacy: false,
      account: { email: 'alpha@example.com', accountId: 'acct-alpha' },
    });
    expect(await new ProfileStore({ paths }).listProfiles()).toEqual([]);
    expect(await readdir(paths.profilesDir)).toEqual([]);
  });

  it('of a rename does not list another account’s tokens under the renamed profile', async () => {
    const store = new ProfileStore({ paths });
    await store.saveSignIn({ auth: makeAuth(beta), requestedName: 'beta' });
    const record = (await store.readRegistry()).profiles[0]!;
    // A rename of beta to work whose record stayed; beta's folder is gone, and "work" is a folder
    // holding alpha's sign-in that no registry lists (a lost registry's, say).
    const { writeJournal } = await import('../../../core/profiles/journal.ts');
    await writeJournal(paths.journalDir, {
      op: 'rename',
      from: 'beta',
      to: 'work',
      legacy: false,
      record: { ...record, name: 'work' },
    });
    await rm(paths.profileDir('beta'), { recursive: true });
    await mkdir(paths.profileDir('work'), { recursive: true });
    await writeFile(paths.profileAuth('work'), JSON.stringify(alpha), { mode: 0o600 });
    await new ProfileStore({ paths }).listProfiles().catch(() => undefined);
    const registry = await store.readRegistry();
    // Before, the registry listed "work" as beta's account over alpha's tokens.
    expect(registry.profiles.find((p) => p.name === 'work')?.email ?? null).not.toBe(
      'beta@example.com',
    );
    expect(await readFile(paths.profileAuth('work'), 'utf8')).toBe(JSON.stringify(alpha));
    expect(await journalRecords(paths)).toEqual([]);
  });

  it('of a keychain rename does not delete the entry of a new profile under the old name', async () => {
    const keyring = new MemoryKeyring();
    const store = new ProfileStore({ paths, keyring });
    await store.saveSignIn({ auth: makeAuth(beta), requestedName: 'beta', store: 'keyring' });
    const record = (await store.readRegistry()).profiles[0]!;
    await store.rename('beta', 'work');
    // Another account signed in under the old name since, in the keychain.
    await store.saveSignIn({ auth: alpha, requestedName: 'beta', store: 'keyring' });
    const key = keyringAccountFor(paths.profileDir('beta'));
    expect(keyring.entries.get(key)).toContain(alpha.tokens!.refresh_token);
    const { writeJournal } = await import('../../../core/profiles/journal.ts');
    await writeJournal(paths.journalDir, {
      op: 'rename',
      from: 'beta',
      to: 'work',
      legacy: false,
      record: { ...record, name: 'work' },
    });
    const next = new ProfileStore({ paths, keyring });
    await next.listProfiles();
    // Before, the replay deleted the keychain entry under beta's key: alpha's sign-in.
    expect(keyring.entries.get(key)).toContain(alpha.tokens!.refresh_token);
    expect((await next.readAuth('beta')).tokens!.refresh_token).toBe(alpha.tokens!.refresh_token);
    expect(await journalRecords(paths)).toEqual([]);
  });
});
