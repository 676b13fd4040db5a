import {
  copyFile,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLabError, LabError } from '../../../core/errors.ts';
import { withCliFix } from '../../../core/format.ts';
import { labPaths, type LabPaths } from '../../../core/home/paths.ts';
import { keyringAccountFor } from '../../../core/profiles/keyring.ts';
import { ProfileStore } from '../../../core/profiles/store.ts';
import { HealthStore } from '../../../core/state/health-store.ts';
import { MemoryKeyring } from '../../fakes/memory-keyring.ts';
import { createRecordingLogger } from '../../helpers/auth-harness.ts';
import { makeAuth, plantedRefreshToken } from '../../helpers/profile-auth.ts';

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!isLabError(error)) throw new Error(`expected a LabError, got ${String(error)}`);
  return { code: error.code, message: error.message };
}

const alice = { email: 'alice@example.com', accountId: 'acct-alice' };
const bob = { email: 'bob@example.com', accountId: 'acct-bob' };
const carol = { email: 'carol@example.com', accountId: 'acct-carol' };

describe('ProfileStore', () => {
  let home: string;
  let paths: LabPaths;
  let keyring: MemoryKeyring;
  let store: ProfileStore;
  let now: number;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'codex-lab-store-'));
    paths = labPaths(home);
    keyring = new MemoryKeyring();
    now = Date.parse('2026-03-01T12:00:00Z');
    store = new ProfileStore({ paths, keyring, now: () => now });
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('starts with an empty registry when the file is missing', async () => {
    expect(await store.readRegistry()).toMatchObject({ active: 'auto', profiles: [] });
    expect(await store.listProfiles()).toEqual([]);
  });

  it('saves three different accounts as three profiles, none overwriting another', async () => {
    for (const account of [alice, bob, carol]) {
      expect(await store.saveSignIn({ auth: makeAuth(account), requestedName: null })).toEqual({
        name: account.email.split('@')[0],
        created: true,
      });
    }
    expect((await store.listProfiles()).map((p) => [p.name, p.email, p.accountId])).toEqual([
      ['alice', alice.email, alice.accountId],
      ['bob', bob.email, bob.accountId],
      ['carol', carol.email, carol.accountId],
    ]);
    for (const account of [alice, bob, carol]) {
      const name = account.email.split('@')[0]!;
      expect((await store.readAuth(name)).tokens?.refresh_token).toBe(plantedRefreshToken(account));
    }
  });

  it('a sign-in again raced by a rename lands on the renamed profile, its tokens replaced', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    let renamed = false;
    const racing = new ProfileStore({
      paths,
      keyring,
      now: () => now,
      step: async (point) => {
        // Another process renames the profile after the sign-in looked it up, once.
        if (point === 'sign-in:looked-up' && !renamed) {
          renamed = true;
          await store.rename('alice', 'work');
        }
      },
    });
    const again = { ...alice, generation: 2 };
    expect(await racing.saveSignIn({ auth: makeAuth(again), requestedName: null })).toEqual({
      name: 'work',
      created: false,
    });
    expect((await store.listProfiles()).map((profile) => profile.name)).toEqual(['work']);
    expect((await store.readAuth('work')).tokens?.refresh_token).toBe(plantedRefreshToken(again));
  });

  it('a sign-in raced by a rename on every look gives up with one clear sentence, nothing changed', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    let looks = 0;
    const names = ['alice', 'work'];
    const racing = new ProfileStore({
      paths,
      keyring,
      now: () => now,
      step: async (point) => {
        if (point !== 'sign-in:looked-up') return;
        looks += 1;
        // alice -> work, work -> alice, …: the name looked up is gone by the time of the lock.
        await store.rename(names[(looks + 1) % 2]!, names[looks % 2]!);
      },
    });
    const again = { ...alice, generation: 2 };
    const failure = await codeOf(racing.saveSignIn({ auth: makeAuth(again), requestedName: null }));
    expect(failure.code).toBe('lock_timeout');
    expect(failure.message).toMatch(/renaming this account.s profile.*sign in again/);
    expect(looks).toBe(8);
    const [profile] = await store.listProfiles();
    expect((await store.readAuth(profile!.name)).tokens?.refresh_token).toBe(
      plantedRefreshToken(alice),
    );
  });

  it('writes Codex-shaped auth.json files, 0600 inside 0700 folders', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: 'work' });
    const path = await store.authPath('work');
    expect(path).toBe(join(home, 'auth-profiles', 'work', 'auth.json'));
    const text = await readFile(path, 'utf8');
    const parsed = JSON.parse(text);
    expect(Object.keys(parsed)).toEqual(['auth_mode', 'OPENAI_API_KEY', 'tokens', 'last_refresh']);
    expect(parsed.auth_mode).toBe('chatgpt');
    expect(parsed.OPENAI_API_KEY).toBeNull();
    expect(text).toContain('\n  "tokens": {');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(home, 'auth-profiles', 'work'))).mode & 0o777).toBe(0o700);
    expect((await stat(paths.registry)).mode & 0o777).toBe(0o600);
    const registryText = await readFile(paths.registry, 'utf8');
    expect(registryText).not.toContain(plantedRefreshToken(alice));
  });

  it('re-authenticates the same account in place, keeping its name', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: 'mine' });
    await store.saveSignIn({ auth: makeAuth(bob), requestedName: null });
    await new HealthStore(paths).markAuthError('mine', 'refresh_token_reused', 'sign in', now);
    const again = { ...alice, email: 'ALICE@example.com', generation: 2, plan: 'pro' };
    expect(await store.saveSignIn({ auth: makeAuth(again), requestedName: 'other' })).toEqual({
      name: 'mine',
      created: false,
    });
    expect((await store.listProfiles()).map((p) => p.name)).toEqual(['mine', 'bob']);
    expect((await store.readAuth('mine')).tokens?.refresh_token).toBe(plantedRefreshToken(again));
    expect((await store.getProfile('mine')).plan).toBe('pro');
    expect((await store.readAuth('bob')).tokens?.refresh_token).toBe(plantedRefreshToken(bob));
    expect((await new HealthStore(paths).get('mine', now)).status).toBe('ok');
  });

  it('keeps the same email in two workspaces (personal and team) as two profiles', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    const team = { email: alice.email, accountId: 'acct-team', plan: 'team' };
    expect(await store.saveSignIn({ auth: makeAuth(team), requestedName: null })).toEqual({
      name: 'alice-2',
      created: true,
    });
    expect((await store.readAuth('alice')).tokens?.account_id).toBe('acct-alice');
    expect((await store.readAuth('alice-2')).tokens?.account_id).toBe('acct-team');
  });

  it('refuses a requested name that is taken or invalid, and saves nothing', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: 'work' });
    expect(
      await codeOf(store.saveSignIn({ auth: makeAuth(bob), requestedName: 'Bad Name' })),
    ).toMatchObject({
      code: 'invalid_name',
    });
    // A typed name is read as every command reads it: `Work` is the profile work, someone else's.
    expect(
      await codeOf(store.saveSignIn({ auth: makeAuth(bob), requestedName: 'Work' })),
    ).toMatchObject({ code: 'name_taken', message: expect.stringContaining('"work"') });
    // The name is another account's (often "sign in again" done as the wrong account): the
    // message says which account each is.
    expect(
      await codeOf(store.saveSignIn({ auth: makeAuth(bob), requestedName: 'work' })),
    ).toMatchObject({
      code: 'name_taken',
      message: `The profile "work" is ${alice.email}, but this sign-in is ${bob.email}: to sign in to "work" again, sign in as ${alice.email}; to add ${bob.email}, give it another name.`,
    });
    // The same person in another workspace: the email alone would not tell them apart.
    const aliceTeam = { email: alice.email, accountId: 'acct-alice-team' };
    expect(
      await codeOf(store.saveSignIn({ auth: makeAuth(aliceTeam), requestedName: 'work' })),
    ).toMatchObject({
      code: 'name_taken',
      message: expect.stringMatching(
        /^The profile "work" is alice@example\.com in another workspace \(\w+, account acct-alice\) than this sign-in \(\w+, account acct-alice-team\): to sign in to "work" again, choose its workspace; to add this one, give it another name\.$/,
      ),
    });
    expect(
      await codeOf(store.saveSignIn({ auth: makeAuth(bob), requestedName: '../x' })),
    ).toMatchObject({
      code: 'invalid_name',
    });
    expect((await store.listProfiles()).map((p) => p.name)).toEqual(['work']);
    expect(await readdir(paths.profilesDir)).toEqual(['work']);
  });

  describe('a profile folder the registry does not list', () => {
    /** Signs alice in as "alice" and bob as "work", then drops alice's registry entry. */
    async function unlistAlice(kind: 'file' | 'keyring' = 'file'): Promise<void> {
      await store.saveSignIn({ auth: makeAuth(alice), requestedName: 'alice', store: kind });
      await store.saveSignIn({ auth: makeAuth(bob), requestedName: 'work' });
      const registry = JSON.parse(await readFile(paths.registry, 'utf8')) as {
        profiles: Array<{ name: string }>;
      };
      registry.profiles = registry.profiles.filter((profile) => profile.name !== 'alice');
      await writeFile(paths.registry, JSON.stringify(registry));
    }

    it('keeps another account’s tokens there: the sign-in is refused, naming that account', async () => {
      await unlistAlice();
      const before = await readFile(paths.profileAuth('alice'), 'utf8');
      const registryBefore = await readFile(paths.registry, 'utf8');
      expect(
        await codeOf(store.saveSignIn({ auth: makeAuth(carol), requestedName: 'alice' })),
      ).toEqual({
        code: 'name_taken',
        message: `The profile "alice" is ${alice.email}, but this sign-in is ${carol.email}: to sign in to "alice" again, sign in as ${alice.email}; to add ${carol.email}, give it another name.`,
      });
      // The same person in another workspace is another account too.
      const team = { email: alice.email, accountId: 'acct-alice-team', plan: 'team' };
      expect(
        await codeOf(store.saveSignIn({ auth: makeAuth(team), requestedName: 'alice' })),
      ).toMatchObject({
        code: 'name_taken',
        message: expect.stringContaining('another workspace'),
      });
      // Asking for the keychain, whose write would delete the file, changes nothing.
      expect(
        (
          await codeOf(
            store.saveSignIn({ auth: makeAuth(carol), requestedName: 'alice', store: 'keyring' }),
          )
        ).code,
      ).toBe('name_taken');
      expect(keyring.entries.size).toBe(0);
      expect(await readFile(paths.profileAuth('alice'), 'utf8')).toBe(before);
      expect(await readFile(paths.registry, 'utf8')).toBe(registryBefore);
      expect(await readdir(paths.journalDir).catch(() => [])).toEqual([]);
    });

    it('is signed in again by its own account, which lists it again', async () => {
      await unlistAlice();
      const again = { ...alice, generation: 2 };
      expect(await store.saveSignIn({ auth: makeAuth(again), requestedName: 'alice' })).toEqual({
        name: 'alice',
        created: true,
      });
      expect((await store.listProfiles()).map((p) => p.name)).toEqual(['work', 'alice']);
      expect((await store.readAuth('alice')).tokens?.refresh_token).toBe(
        plantedRefreshToken(again),
      );
    });

    it('keeps another account’s keychain entry there', async () => {
      await unlistAlice('keyring');
      const key = keyringAccountFor(paths.profileDir('alice'));
      const before = keyring.entries.get(key);
      expect(
        (
          await codeOf(
            store.saveSignIn({ auth: makeAuth(carol), requestedName: 'alice', store: 'keyring' }),
          )
        ).code,
      ).toBe('name_taken');
      expect(keyring.entries.get(key)).toBe(before);
    });

    it('keeps another account’s keychain entry there from a sign-in to the file store', async () => {
      await unlistAlice('keyring');
      expect(
        (await codeOf(store.saveSignIn({ auth: makeAuth(carol), requestedName: 'alice' }))).code,
      ).toBe('name_taken');
      await expect(stat(paths.profileAuth('alice'))).rejects.toThrow();
    });

    it('says it is the keychain, not a profile, when a stale entry for a folder that is gone refuses the sign-in', async () => {
      // An earlier home at this path kept alice's sign-in in the keychain; its folders are gone.
      const key = keyringAccountFor(paths.profileDir('alice'));
      const stale = JSON.stringify(makeAuth(alice));
      keyring.entries.set(key, stale);
      const error = await codeOf(
        store.saveSignIn({ auth: makeAuth(carol), requestedName: 'alice', store: 'keyring' }),
      );
      expect(error).toEqual({
        code: 'name_taken',
        message: `The OS keychain already keeps the sign-in of ${alice.email} for ${paths.profileDir('alice')}, where a profile named "alice" keeps its tokens (entry "${key}" of "Codex Auth"), but this sign-in is ${carol.email}: to add ${carol.email}, give it another name; to use "alice", sign in as ${alice.email}.`,
      });
      expect(keyring.entries.get(key)).toBe(stale);
      expect(await store.listProfiles()).toEqual([]);
    });

    it('reports a broken auth.json there by name and writes nothing over it', async () => {
      await unlistAlice();
      await writeFile(paths.profileAuth('alice'), '{ nope');
      const error = await codeOf(
        store.saveSignIn({ auth: makeAuth(carol), requestedName: 'alice' }),
      );
      expect(error.code).toBe('corrupt_file');
      expect(error.message).toContain(paths.profileAuth('alice'));
      expect(await readFile(paths.profileAuth('alice'), 'utf8')).toBe('{ nope');
    });
  });

  it('refuses a hand-edited registry whose priming watches no window, naming the file', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: 'alice' });
    const registry = JSON.parse(await readFile(paths.registry, 'utf8'));
    registry.profiles[0].priming = { enabled: true, windows: [], at: null, model: null };
    await writeFile(paths.registry, JSON.stringify(registry), { mode: 0o600 });
    const error = await codeOf(new ProfileStore({ paths, keyring, now: () => now }).listProfiles());
    expect(error.code).toBe('corrupt_file');
    expect(error.message).toContain(paths.registry);
  });

  it('removes what killed atomic writes left in the state folder and of the registry, once old, and never a journal record’s, the legacy auth file’s or a profile folder’s', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: 'alice' });
    const old = new Date(now - 11 * 60_000);
    const young = new Date(now - 60_000);
    const planted: Array<[string, Date]> = [
      [join(paths.journalDir, '001772366400000-13adaf4d-remove.json.752532650'), old],
      [join(paths.stateDir, 'quota.json.1406490421'), old],
      [join(paths.stateDir, 'router-token.3'), old],
      [join(paths.stateDir, 'health.json.42'), young],
      [join(paths.stateDir, 'router.log.1'), old],
      [`${paths.profileAuth('alice')}.777`, old],
      // Beside the registry: its own leftover holds no token; the legacy auth file's may hold
      // the only live one (adopted under its refresh lock), and another file is not ours.
      [`${paths.registry}.1979`, old],
      [`${paths.legacyAuth}.1980`, old],
      [join(paths.home, 'notes.json.1'), old],
    ];
    for (const [path, at] of planted) {
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, '{"tokens":', { mode: 0o600 });
      await utimes(path, at, at);
    }
    await store.saveSignIn({ auth: makeAuth(bob), requestedName: 'bob' });
    const left = await Promise.all(
      planted.map(([path]) =>
        stat(path).then(
          () => true,
          () => false,
        ),
      ),
    );
    // The old leftovers of state files are gone; a journal record's (a `recovered` record's may
    // hold the only copy of a rotated refresh token), a young one (a write perhaps under way), a
    // log and a profile folder's stay; so do the legacy auth file's and a stranger's beside the
    // registry, whose own goes.
    expect(left).toEqual([true, false, false, true, true, true, false, true, true]);
  });

  it('reads and writes a listed profile’s tokens where the last good listing said once the registry stops parsing, and refuses registry changes', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: 'alice' });
    await store.listProfiles();
    await writeFile(paths.registry, '{"version":1, broken', { mode: 0o600 });
    // The router keeps routing with what it read: the profile's tokens are still there.
    expect((await store.readAuth('alice')).tokens?.account_id).toBe(alice.accountId);
    const renewed = makeAuth({ ...alice, generation: 2 });
    await store.writeAuth('alice', renewed);
    expect(
      JSON.parse(await readFile(paths.profileAuth('alice'), 'utf8')).tokens.refresh_token,
    ).toBe(renewed.tokens?.refresh_token);
    // Everything that lists or changes the registry names the file, and writes nothing to it.
    expect((await codeOf(store.listProfiles())).code).toBe('corrupt_file');
    expect((await codeOf(store.getProfile('bob'))).code).toBe('corrupt_file');
    expect(
      (await codeOf(store.saveSignIn({ auth: makeAuth(bob), requestedName: 'bob' }))).code,
    ).toBe('corrupt_file');
    expect(await readFile(paths.registry, 'utf8')).toBe('{"version":1, broken');
    // A store that never read the registry has no copy to use.
    const fresh = new ProfileStore({ paths, keyring, now: () => now });
    expect((await codeOf(fresh.readAuth('alice'))).code).toBe('corrupt_file');
  });

  describe('a missing registry', () => {
    beforeEach(async () => {
      await store.saveSignIn({ auth: makeAuth(alice), requestedName: 'alice' });
      await store.saveSignIn({ auth: makeAuth(carol), requestedName: 'work' });
      await store.setActive('work');
    });

    it('is rebuilt from the profile folders, under their names, with their accounts', async () => {
      await rm(paths.registry);
      expect(
        (await store.listProfiles()).map((p) => [p.name, p.email, p.accountId, p.store]),
      ).toEqual([
        ['alice', alice.email, alice.accountId, 'file'],
        ['work', carol.email, carol.accountId, 'file'],
      ]);
      expect((await stat(paths.registry)).mode & 0o777).toBe(0o600);
      // What only the registry knew is gone with it.
      expect((await store.readRegistry()).active).toBe('auto');
      expect((await store.readAuth('alice')).tokens?.refresh_token).toBe(
        plantedRefreshToken(alice),
      );
      expect(await store.unlistedProfiles()).toEqual([]);
    });

    it('is rebuilt with a log line, and the keychain sign-ins of folders without an auth file are reported', async () => {
      await store.saveSignIn({ auth: makeAuth(bob), requestedName: 'vault', store: 'keyring' });
      await rm(paths.registry);
      const logger = createRecordingLogger();
      const logged = new ProfileStore({ paths, keyring, now: () => now, logger });
      expect((await logged.listProfiles()).map((p) => p.name)).toEqual(['alice', 'work']);
      expect(logger.lines.join('\n')).toContain(
        `${paths.registry} was missing: rebuilt it from the profile folders (alice, work)`,
      );
      const vaultSentence = `${paths.profileDir('vault')} has no auth file, but the OS keychain keeps the sign-in of ${bob.email} for it, which auth-profiles.json does not list`;
      expect(logger.lines.join('\n')).toContain(vaultSentence);
      const report = await logged.lostRegistryReport();
      expect(report.rebuilt).toContain(
        'was missing: rebuilt it from the profile folders (alice, work)',
      );
      expect(report.problems).toEqual([]);
      // Said on every load, by every store, as an unlisted folder with an auth file is.
      for (const reader of [logged, new ProfileStore({ paths, keyring, now: () => now })]) {
        await reader.listProfiles();
        const reported = await reader.unlistedProfiles();
        expect(reported.map((error) => [error.code, withCliFix(error.message, error.fix)])).toEqual(
          [
            [
              'unlisted_profile',
              `${vaultSentence}: to list it again, run \`codex-lab login vault\` and sign in as ${bob.email}.`,
            ],
          ],
        );
      }
      // Signing in again as that account lists it, still in the keychain: no second copy.
      await logged.saveSignIn({
        auth: makeAuth({ ...bob, generation: 2 }),
        requestedName: 'vault',
      });
      expect((await logged.getProfile('vault')).store).toBe('keyring');
      await expect(stat(paths.profileAuth('vault'))).rejects.toThrow();
      expect(await logged.unlistedProfiles()).toEqual([]);
    });

    it('keeps reporting a keychain sign-in the rebuilt registry does not list, on every load, until it is listed', async () => {
      await rm(paths.profilesDir, { recursive: true });
      await store.saveSignIn({ auth: makeAuth(bob), requestedName: 'vault', store: 'keyring' });
      await rm(paths.registry);
      const first = new ProfileStore({ paths, keyring, now: () => now });
      expect(await first.listProfiles()).toEqual([]);
      expect((await first.lostRegistryReport()).rebuilt).toContain('rebuilt empty');
      for (let load = 0; load < 3; load++) {
        const later = new ProfileStore({ paths, keyring, now: () => now });
        expect(await later.listProfiles()).toEqual([]);
        expect((await later.unlistedProfiles()).map((error) => [error.code, error.fix])).toEqual([
          ['unlisted_profile', { action: 'add_account', name: 'vault', email: bob.email }],
        ]);
      }
      // With the keychain out of reach the folder is still named, as unchecked.
      keyring.outage = 'all';
      const unread = await new ProfileStore({ paths, keyring, now: () => now }).unlistedProfiles();
      expect(unread.map((error) => error.code)).toEqual(['keyring_unavailable']);
      expect(unread[0]?.message).toContain(paths.profileDir('vault'));
      keyring.outage = 'none';
    });

    it('of keychain profiles only is rebuilt empty, each reported; with the keychain out of reach nothing is written', async () => {
      await rm(paths.profilesDir, { recursive: true });
      await store.saveSignIn({ auth: makeAuth(bob), requestedName: 'vault', store: 'keyring' });
      await rm(paths.registry);
      keyring.outage = 'all';
      const first = new ProfileStore({ paths, keyring, now: () => now });
      expect(await first.listProfiles()).toEqual([]);
      const [unread] = (await first.lostRegistryReport()).problems;
      expect(unread?.code).toBe('keyring_unavailable');
      // Shown by every surface as it is (the log too): it names no command.
      expect(unread?.message).toMatch(/unlock the keychain/);
      expect(unread?.message).not.toMatch(/codex-lab (list|login)/);
      await expect(stat(paths.registry)).rejects.toThrow();
      keyring.outage = 'none';
      const second = new ProfileStore({ paths, keyring, now: () => now });
      expect(await second.listProfiles()).toEqual([]);
      expect((await second.lostRegistryReport()).problems).toEqual([]);
      expect((await second.unlistedProfiles()).map((error) => error.code)).toEqual([
        'unlisted_profile',
      ]);
      expect((await second.readRegistry()).profiles).toEqual([]);
      await stat(paths.registry);
    });

    it('rebuilt without the keychain folders it could not read, says how to list one without naming a command', async () => {
      await store.saveSignIn({ auth: makeAuth(bob), requestedName: 'vault', store: 'keyring' });
      await rm(paths.registry);
      keyring.outage = 'all';
      const rebuilt = new ProfileStore({ paths, keyring, now: () => now });
      expect((await rebuilt.listProfiles()).map((p) => p.name)).toEqual(['alice', 'work']);
      expect((await rebuilt.lostRegistryReport()).problems).toEqual([]);
      const [unread, ...others] = await rebuilt.unlistedProfiles();
      expect(others).toEqual([]);
      expect(unread?.code).toBe('keyring_unavailable');
      expect(unread?.message).toContain(paths.profileDir('vault'));
      expect(unread?.message).toMatch(/unlock the keychain/);
      expect(unread?.message).not.toMatch(/codex-lab (list|login)/);
      keyring.outage = 'none';
    });

    it('is rebuilt before any registry edit, so an edit never writes a registry without them', async () => {
      await rm(paths.registry);
      await store.setActive('auto');
      expect((await store.readRegistry()).profiles.map((p) => p.name)).toEqual(['alice', 'work']);
    });

    it('leaves out folders it cannot name, and reports each with how to list it again', async () => {
      await rm(paths.registry);
      await mkdir(join(paths.profilesDir, 'Bad Name'));
      await writeFile(join(paths.profilesDir, 'Bad Name', 'auth.json'), '{}');
      await mkdir(join(paths.profilesDir, 'empty'));
      expect((await store.listProfiles()).map((p) => p.name)).toEqual(['alice', 'work']);
      const [problem, ...others] = await store.unlistedProfiles();
      expect(others).toEqual([]);
      // The core says what is wrong (the dashboard shows it too); the fix travels beside it.
      expect(problem!.code).toBe('unlisted_profile');
      expect(problem!.message).toBe(
        `${join(paths.profilesDir, 'Bad Name')} holds the sign-in of an account, but auth-profiles.json does not list it: "Bad Name" is not a valid profile name (use lowercase letters, digits, ".", "_" and "-", starting with a letter or digit).`,
      );
      expect(problem!.fix).toEqual({ action: 'rename_folder', folder: 'Bad Name', email: null });
      expect(withCliFix(problem!.message, problem!.fix)).toBe(
        `${join(paths.profilesDir, 'Bad Name')} holds the sign-in of an account, but auth-profiles.json does not list it: "Bad Name" is not a valid profile name (use lowercase letters, digits, ".", "_" and "-", starting with a letter or digit): to list it again, give the folder a valid name, then run \`codex-lab login\` with that name and sign in as the same account.`,
      );
    });

    it('is not rebuilt when it is a dangling link: that is reported by name and left', async () => {
      await rm(paths.registry);
      await symlink(join(home, 'elsewhere.json'), paths.registry);
      const error = await codeOf(store.listProfiles());
      expect(error.code).toBe('corrupt_file');
      expect(error.message).toContain(paths.registry);
      expect((await lstat(paths.registry)).isSymbolicLink()).toBe(true);
      await expect(stat(join(home, 'elsewhere.json'))).rejects.toThrow();
    });
  });

  it('says a name no profile has without naming a command, the command line adding its own', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: 'alice' });
    const error = (await store
      .rename('ghost', 'spook')
      .catch((caught: unknown) => caught)) as LabError;
    expect(error).toBeInstanceOf(LabError);
    expect(error.code).toBe('profile_not_found');
    expect(error.message).toBe('There is no profile named "ghost".');
    expect(error.fix).toEqual({ action: 'see_profiles' });
    expect(withCliFix(error.message, error.fix)).toBe(
      'There is no profile named "ghost"; run `codex-lab list` to see them.',
    );
  });

  it('names a profile folder the registry does not list, with the account it holds', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: 'alice' });
    await store.saveSignIn({ auth: makeAuth(bob), requestedName: 'work' });
    const registry = JSON.parse(await readFile(paths.registry, 'utf8')) as {
      profiles: Array<{ name: string }>;
    };
    registry.profiles = registry.profiles.filter((profile) => profile.name !== 'alice');
    await writeFile(paths.registry, JSON.stringify(registry));
    const registryText = await readFile(paths.registry, 'utf8');
    expect((await store.listProfiles()).map((p) => p.name)).toEqual(['work']);
    expect(
      (await store.unlistedProfiles()).map((e) => [e.code, withCliFix(e.message, e.fix), e.fix]),
    ).toEqual([
      [
        'unlisted_profile',
        `${paths.profileDir('alice')} holds the sign-in of ${alice.email}, but auth-profiles.json does not list it: to list it again, run \`codex-lab login alice\` and sign in as ${alice.email}.`,
        { action: 'add_account', name: 'alice', email: alice.email },
      ],
    ]);
    // Reported, never adopted while the registry exists.
    expect(await readFile(paths.registry, 'utf8')).toBe(registryText);
  });

  it('names a copied folder of a listed account as a copy, with no sign-in offered that could not list it', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: 'alice' });
    await mkdir(paths.profileDir('extra'), { recursive: true });
    await copyFile(paths.profileAuth('alice'), paths.profileAuth('extra'));
    const [problem, ...others] = await store.unlistedProfiles();
    expect(others).toEqual([]);
    expect(problem!.code).toBe('unlisted_profile');
    expect(problem!.fix).toBeUndefined();
    expect(problem!.message).toBe(
      `${paths.profileDir('extra')} holds a sign-in of ${alice.email}, the account the profile alice already holds, and auth-profiles.json does not list it: a profile per account, so it cannot be listed again; delete the folder or move it out of auth-profiles once you no longer need it.`,
    );
    // What the old advice led to: signing in under the folder's name renews alice instead.
    const renewed = await store.saveSignIn({ auth: makeAuth(alice), requestedName: 'extra' }).then(
      (result) => result,
      (error: unknown) => error,
    );
    expect(renewed).not.toMatchObject({ name: 'extra', created: true });
  });

  describe('the legacy auth.json', () => {
    let legacyText: string;
    beforeEach(async () => {
      legacyText = `${JSON.stringify(makeAuth(bob), null, 2)}\n`;
      await writeFile(paths.legacyAuth, legacyText, { mode: 0o600 });
    });

    it('is listed as default and read in place without being rewritten', async () => {
      const before = await stat(paths.legacyAuth);
      const [entry] = await store.listProfiles();
      expect(entry).toMatchObject({
        name: 'default',
        legacy: true,
        email: bob.email,
        plan: 'plus',
      });
      expect(await store.authPath('default')).toBe(paths.legacyAuth);
      expect((await store.readAuth('default')).tokens?.refresh_token).toBe(
        plantedRefreshToken(bob),
      );
      expect(await readFile(paths.legacyAuth, 'utf8')).toBe(legacyText);
      expect((await stat(paths.legacyAuth)).mtimeMs).toBe(before.mtimeMs);
    });

    it('is re-authenticated in place by a sign-in to the same account', async () => {
      const again = { ...bob, generation: 2 };
      expect(await store.saveSignIn({ auth: makeAuth(again), requestedName: null })).toEqual({
        name: 'default',
        created: false,
      });
      expect(JSON.parse(await readFile(paths.legacyAuth, 'utf8')).tokens.refresh_token).toBe(
        plantedRefreshToken(again),
      );
    });

    it('takes the name default, so a new sign-in cannot claim it', async () => {
      expect(
        await codeOf(store.saveSignIn({ auth: makeAuth(alice), requestedName: 'default' })),
      ).toMatchObject({
        code: 'name_taken',
      });
    });

    it('gets a registry entry for settings while its tokens stay in place', async () => {
      await store.setPriming('default', { enabled: true });
      const registry = await store.readRegistry();
      expect(registry.profiles).toMatchObject([{ name: 'default', legacy: true }]);
      const entries = await store.listProfiles();
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ legacy: true, priming: { enabled: true } });
      expect(await store.authPath('default')).toBe(paths.legacyAuth);
      expect(await readFile(paths.legacyAuth, 'utf8')).toBe(legacyText);
    });

    it('is adopted into auth-profiles/<name> when renamed', async () => {
      await store.setActive('default');
      await store.rename('default', 'bob');
      const entries = await store.listProfiles();
      expect(entries.map((p) => [p.name, p.legacy])).toEqual([['bob', false]]);
      expect((await store.readAuth('bob')).tokens?.refresh_token).toBe(plantedRefreshToken(bob));
      expect((await store.readRegistry()).active).toBe('bob');
      await expect(stat(paths.legacyAuth)).rejects.toThrow();
    });
  });

  it('renames the folder, registry entry, pins, active marker and health entry', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    await store.saveSignIn({ auth: makeAuth(bob), requestedName: null });
    await store.setActive('alice');
    await store.setPin('session', '0199aabb-0000-7000-8000-000000000001', 'alice', true);
    await store.setPin('repo', '/src/x', 'alice');
    await store.setPin('repo', '/src/y', 'bob');
    await new HealthStore(paths).markLimited('alice', now + 60_000, 'limited', now);
    await store.rename('alice', 'work');
    const registry = await store.readRegistry();
    expect(registry.profiles.map((p) => p.name)).toEqual(['work', 'bob']);
    expect(registry.active).toBe('work');
    expect(registry.pins.sessions['0199aabb-0000-7000-8000-000000000001']).toMatchObject({
      profile: 'work',
      allowFallback: true,
    });
    expect(registry.pins.repos['/src/x']?.profile).toBe('work');
    expect(registry.pins.repos['/src/y']?.profile).toBe('bob');
    expect(await readdir(paths.profilesDir)).toEqual(expect.arrayContaining(['work', 'bob']));
    expect(await readdir(paths.profilesDir)).not.toContain('alice');
    expect((await store.readAuth('work')).tokens?.refresh_token).toBe(plantedRefreshToken(alice));
    expect((await new HealthStore(paths).get('work', now)).status).toBe('limited');
    expect((await new HealthStore(paths).get('alice', now)).status).toBe('unknown');
  });

  it('refuses to rename onto a name differing only in case, an invalid name or a missing profile', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    await store.saveSignIn({ auth: makeAuth(bob), requestedName: null });
    const registryBefore = await readFile(paths.registry, 'utf8');
    expect(await codeOf(store.rename('bob', 'ALICE'))).toMatchObject({ code: 'invalid_name' });
    expect(await codeOf(store.rename('bob', 'alice'))).toMatchObject({ code: 'name_taken' });
    expect(await codeOf(store.rename('bob', '../x'))).toMatchObject({ code: 'invalid_name' });
    expect(await codeOf(store.rename('bob', 'x'.repeat(65)))).toMatchObject({
      code: 'invalid_name',
    });
    const missing = await codeOf(store.rename('nobody', 'x'));
    expect(missing.code).toBe('profile_not_found');
    expect(missing.message).toContain('"nobody"');
    expect(missing.message).not.toContain('codex-lab');
    expect(await readFile(paths.registry, 'utf8')).toBe(registryBefore);
    expect((await store.readAuth('bob')).tokens?.refresh_token).toBe(plantedRefreshToken(bob));
  });

  it('removes one profile and leaves the others untouched', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    await store.saveSignIn({ auth: makeAuth(bob), requestedName: null });
    const bobBefore = await readFile(paths.profileAuth('bob'), 'utf8');
    await store.setActive('alice');
    await store.setPin('session', '0199aabb-0000-7000-8000-000000000001', 'alice');
    await store.setPin('session', '0199aabb-0000-7000-8000-000000000002', 'bob');
    await store.remove('alice');
    const registry = await store.readRegistry();
    expect(registry.profiles.map((p) => p.name)).toEqual(['bob']);
    expect(registry.active).toBe('auto');
    expect(Object.keys(registry.pins.sessions)).toEqual(['0199aabb-0000-7000-8000-000000000002']);
    expect(await readdir(paths.profilesDir)).toEqual(['bob']);
    expect(await readFile(paths.profileAuth('bob'), 'utf8')).toBe(bobBefore);
    expect((await codeOf(store.remove('alice'))).code).toBe('profile_not_found');
  });

  it('pins and unpins, naming an unknown profile', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    await store.setPin('repo', '/r', 'alice');
    expect((await store.readRegistry()).pins.repos['/r']).toMatchObject({
      profile: 'alice',
      allowFallback: false,
    });
    await store.setPin('repo', '/r', null);
    expect((await store.readRegistry()).pins.repos).toEqual({});
    const error = await codeOf(
      store.setPin('session', '0199aabb-0000-7000-8000-000000000003', 'ghost'),
    );
    expect(error.code).toBe('profile_not_found');
    expect(error.message).toContain('"ghost"');
    expect((await codeOf(store.setActive('ghost'))).code).toBe('profile_not_found');
    await store.setActive('AUTO');
    expect((await store.readRegistry()).active).toBe('auto');
  });

  it('touches lastUsedAt at most once a minute', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    await store.touch('alice');
    const first = (await store.getProfile('alice')).lastUsedAt;
    expect(first).toBe(new Date(now).toISOString());
    now += 30_000;
    await store.touch('alice');
    expect((await store.getProfile('alice')).lastUsedAt).toBe(first);
    now += 31_000;
    await store.touch('alice');
    expect((await store.getProfile('alice')).lastUsedAt).toBe(new Date(now).toISOString());
  });

  it('reports a corrupt registry by name, leaves it untouched and refuses to edit', async () => {
    await mkdir(home, { recursive: true });
    await writeFile(paths.registry, '{"version": 1, "profiles": [');
    const error = await codeOf(store.listProfiles());
    expect(error.code).toBe('corrupt_file');
    expect(error.message).toContain(paths.registry);
    expect(
      (await codeOf(store.saveSignIn({ auth: makeAuth(alice), requestedName: null }))).code,
    ).toBe('corrupt_file');
    expect((await codeOf(store.setActive('auto'))).code).toBe('corrupt_file');
    expect(await readFile(paths.registry, 'utf8')).toBe('{"version": 1, "profiles": [');
  });

  it('keeps recovered tokens while the profile’s auth file is broken, and drops them only once it reads without the replaced token', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    const original = await readFile(paths.profileAuth('alice'), 'utf8');
    await store.saveRecoveredTokens(
      'alice',
      makeAuth({ ...alice, generation: 2 }),
      plantedRefreshToken(alice),
    );
    await writeFile(paths.profileAuth('alice'), '{ half written');
    await store.listProfiles();
    expect(await readdir(paths.journalDir)).toHaveLength(1);
    // Put back: the replaced token is there, so the recovered tokens replace it.
    await writeFile(paths.profileAuth('alice'), original);
    await store.listProfiles();
    expect((await store.readAuth('alice')).tokens?.refresh_token).toBe(
      plantedRefreshToken({ ...alice, generation: 2 }),
    );
    // A record whose token no readable profile holds any more (signed in again since) goes.
    await store.saveRecoveredTokens(
      'alice',
      makeAuth({ ...alice, generation: 3 }),
      plantedRefreshToken(alice),
    );
    await store.listProfiles();
    expect(await readdir(paths.journalDir)).toEqual([]);
    expect((await store.readAuth('alice')).tokens?.refresh_token).toBe(
      plantedRefreshToken({ ...alice, generation: 2 }),
    );
  });

  it('reports a corrupt auth.json by name and never overwrites it on read', async () => {
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    await writeFile(paths.profileAuth('alice'), '{ nope');
    const error = await codeOf(store.readAuth('alice'));
    expect(error.code).toBe('corrupt_file');
    expect(error.message).toContain(paths.profileAuth('alice'));
    expect(await readFile(paths.profileAuth('alice'), 'utf8')).toBe('{ nope');
  });

  describe('keyring store', () => {
    it('keeps the compact JSON under Codex’s key and no auth.json file', async () => {
      await store.saveSignIn({ auth: makeAuth(alice), requestedName: null, store: 'keyring' });
      const key = keyringAccountFor(paths.profileDir('alice'));
      expect(key).toMatch(/^cli\|[0-9a-f]{16}$/);
      const stored = keyring.entries.get(key);
      expect(stored).toBeDefined();
      expect(stored).not.toContain('\n');
      expect(JSON.parse(stored!).tokens.refresh_token).toBe(plantedRefreshToken(alice));
      await expect(stat(paths.profileAuth('alice'))).rejects.toThrow();
      expect((await store.readAuth('alice')).tokens?.refresh_token).toBe(
        plantedRefreshToken(alice),
      );
    });

    it('moves the keychain entry on rename and deletes it on remove', async () => {
      await store.saveSignIn({ auth: makeAuth(alice), requestedName: null, store: 'keyring' });
      const oldKey = keyringAccountFor(paths.profileDir('alice'));
      await store.rename('alice', 'work');
      const newKey = keyringAccountFor(paths.profileDir('work'));
      expect(keyring.entries.has(oldKey)).toBe(false);
      expect(keyring.entries.has(newKey)).toBe(true);
      expect((await store.readAuth('work')).tokens?.refresh_token).toBe(plantedRefreshToken(alice));
      await store.remove('work');
      expect(keyring.entries.size).toBe(0);
    });

    it('moves a file profile to the keychain when it signs in again with the keychain asked for', async () => {
      await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
      expect(await stat(paths.profileAuth('alice'))).toBeTruthy();
      const again = makeAuth(alice);
      await store.saveSignIn({ auth: again, requestedName: null, store: 'keyring' });
      const [entry] = await store.listProfiles();
      expect(entry).toMatchObject({ name: 'alice', store: 'keyring' });
      await expect(stat(paths.profileAuth('alice'))).rejects.toThrow();
      const key = keyringAccountFor(paths.profileDir('alice'));
      expect(JSON.parse(keyring.entries.get(key)!).tokens.refresh_token).toBe(
        again.tokens!.refresh_token,
      );
      expect((await store.readAuth('alice')).tokens?.refresh_token).toBe(
        again.tokens!.refresh_token,
      );
      // Without --keyring, a keychain profile stays in the keychain.
      await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
      expect((await store.listProfiles())[0]?.store).toBe('keyring');
      await expect(stat(paths.profileAuth('alice'))).rejects.toThrow();
    });

    it('renames nothing while the keychain is out of reach, says so, and keeps no record', async () => {
      await store.saveSignIn({ auth: makeAuth(alice), requestedName: null, store: 'keyring' });
      const registryBefore = await readFile(paths.registry, 'utf8');
      keyring.outage = 'all';
      const error = await codeOf(store.rename('alice', 'work'));
      expect(error).toEqual({
        code: 'keyring_unavailable',
        message:
          'alice was not renamed: it keeps its tokens in the OS keychain, which is not available (the fake keychain is down); unlock the keychain, then try again.',
      });
      expect(await readFile(paths.registry, 'utf8')).toBe(registryBefore);
      expect(await readdir(paths.journalDir).catch(() => [])).toEqual([]);
      expect(await stat(paths.profileDir('alice'))).toBeTruthy();
      keyring.outage = 'none';
    });

    it('a rename refused by a locked keychain is rolled back quietly, and said once done', async () => {
      await store.saveSignIn({ auth: makeAuth(alice), requestedName: null, store: 'keyring' });
      const logger = createRecordingLogger();
      const logged = new ProfileStore({ paths, keyring, now: () => now, logger });
      // Locked: reads answer, writes (the copy under the new key) are refused.
      keyring.outage = 'writes';
      const error = await codeOf(logged.rename('alice', 'work'));
      expect(error.message).toMatch(/^alice was not renamed: /);
      expect((await logged.listProfiles()).map((entry) => entry.name)).toEqual(['alice']);
      expect((await logged.readAuth('alice')).tokens?.refresh_token).toBe(
        plantedRefreshToken(alice),
      );
      // Loads while it stays locked say nothing of the record kept for the rollback.
      await logged.listProfiles();
      expect(logger.lines.join('\n')).not.toMatch(/journal record/);
      keyring.outage = 'none';
      await logged.listProfiles();
      expect(await readdir(paths.journalDir)).toEqual([]);
      expect(keyring.entries.has(keyringAccountFor(paths.profileDir('work')))).toBe(false);
    });

    it('removes nothing while the keychain is out of reach, and says so', async () => {
      await store.saveSignIn({ auth: makeAuth(alice), requestedName: null, store: 'keyring' });
      const registryBefore = await readFile(paths.registry, 'utf8');
      const unreachable = new ProfileStore({
        paths,
        keyring: {
          get: async () => {
            throw new LabError(
              'keyring_unavailable',
              'The OS keychain is not available (no D-Bus); unlock it, or use the file store.',
              { details: { detail: 'no D-Bus' } },
            );
          },
          set: async () => undefined,
          delete: async () => undefined,
        },
      });
      const error = await codeOf(unreachable.remove('alice'));
      expect(error).toEqual({
        code: 'keyring_unavailable',
        message:
          'alice was not removed: it keeps its tokens in the OS keychain, which is not available (no D-Bus); unlock the keychain, then try again.',
      });
      expect(await readFile(paths.registry, 'utf8')).toBe(registryBefore);
      expect(await readdir(paths.journalDir).catch(() => [])).toEqual([]);
      expect(keyring.entries.size).toBe(1);
    });

    it('keeps recovered tokens while the keychain cannot be read, and saves them once it can', async () => {
      await store.saveSignIn({ auth: makeAuth(alice), requestedName: null, store: 'keyring' });
      const rotated = makeAuth({ ...alice, generation: 2 });
      await store.saveRecoveredTokens('alice', rotated, plantedRefreshToken(alice));
      // The keychain is gone (its daemon killed), then back but locked: neither read shows that
      // alice no longer holds the replaced token, so the record stays.
      keyring.outage = 'all';
      await store.listProfiles();
      expect(await readdir(paths.journalDir)).toHaveLength(1);
      keyring.outage = 'writes';
      await store.listProfiles();
      expect(await readdir(paths.journalDir)).toHaveLength(1);
      keyring.outage = 'none';
      await store.listProfiles();
      expect(await readdir(paths.journalDir)).toEqual([]);
      expect((await store.readAuth('alice')).tokens?.refresh_token).toBe(
        rotated.tokens!.refresh_token,
      );
    });

    it('refuses to let a refresh spend a token that pending recovered tokens replace', async () => {
      await store.saveSignIn({ auth: makeAuth(alice), requestedName: null, store: 'keyring' });
      const rotated = makeAuth({ ...alice, generation: 2 });
      await store.saveRecoveredTokens('alice', rotated, plantedRefreshToken(alice));
      // Locked: reads answer (the replaced token), writes are refused.
      keyring.outage = 'writes';
      const error = await codeOf(store.adoptUnfinishedWrite('alice'));
      expect(error.code).toBe('keyring_unavailable');
      expect(error.message).toContain('alice');
      expect(error.message).toContain(paths.journalDir);
      expect(await readdir(paths.journalDir)).toHaveLength(1);
      keyring.outage = 'none';
      await store.adoptUnfinishedWrite('alice');
      expect((await store.readAuth('alice')).tokens?.refresh_token).toBe(
        rotated.tokens!.refresh_token,
      );
      expect(await readdir(paths.journalDir)).toEqual([]);
    });

    it('fails clearly when no keychain is configured', async () => {
      const plain = new ProfileStore({ paths });
      const error = await codeOf(
        plain.saveSignIn({ auth: makeAuth(alice), requestedName: null, store: 'keyring' }),
      );
      expect(error.code).toBe('keyring_unavailable');
      expect(await plain.listProfiles()).toEqual([]);
    });
  });
});
