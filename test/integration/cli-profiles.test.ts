import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { journalRecords } from '../helpers/journal-records.ts';
import { makeAuth } from '../helpers/profile-auth.ts';

describe('codex-lab rename, remove, use, pin, unpin', () => {
  let home: string;
  let paths: LabPaths;
  let store: ProfileStore;
  let snapshot: () => Promise<string>;

  beforeEach(async () => {
    home = await makeTempHome();
    paths = labPaths(home);
    store = new ProfileStore({ paths });
    await store.saveSignIn({
      auth: makeAuth({ email: 'alice@example.com', accountId: 'a' }),
      requestedName: null,
    });
    await store.saveSignIn({
      auth: makeAuth({ email: 'bob@example.com', accountId: 'b' }),
      requestedName: null,
    });
    snapshot = async () =>
      JSON.stringify([
        await readFile(paths.registry, 'utf8'),
        await readFile(paths.profileAuth('alice'), 'utf8'),
        await readFile(paths.profileAuth('bob'), 'utf8'),
        (await readdir(paths.profilesDir)).sort(),
      ]);
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('rename and remove go through with a state file that does not read, and leave that file as it is', async () => {
    await mkdir(paths.stateDir, { recursive: true });
    for (const path of [paths.quota, paths.priming]) {
      await writeFile(path, '{"version":1,"profiles":', { mode: 0o600 });
    }
    const renamed = await runCodexLab(['rename', 'alice', 'ann'], { home });
    expect(renamed.code, renamed.stderr).toBe(0);
    expect(renamed.stdout).toContain('Renamed alice to ann.');
    expect((await store.listProfiles()).map((profile) => profile.name)).toEqual(['ann', 'bob']);
    const removed = await runCodexLab(['remove', 'bob'], { home });
    expect(removed.code, removed.stderr).toBe(0);
    for (const path of [paths.quota, paths.priming]) {
      expect(await readFile(path, 'utf8')).toBe('{"version":1,"profiles":');
    }
  });
  it('rename and remove refuse with a health.json that does not read: nothing changes, and no journal record stays', async () => {
    await mkdir(paths.stateDir, { recursive: true });
    await writeFile(paths.health, '{"broken', { mode: 0o600 });
    const before = await snapshot();
    for (const [args, said] of [
      [['remove', 'bob'], 'bob was not removed'],
      [['rename', 'alice', 'ann'], 'alice was not renamed'],
    ] as const) {
      const run = await runCodexLab([...args], { home });
      // Before, both applied and then exited 1 as if nothing had happened.
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(said);
      expect(run.stderr).toContain(paths.health);
      expect(await snapshot()).toBe(before);
      expect(await journalRecords(paths)).toEqual([]);
    }
    expect(await readFile(paths.health, 'utf8')).toBe('{"broken');
  });

  it('a corrupt health.json never costs an account its sign-in (remove, rename onto the name, mend)', async () => {
    const aliceAuth = await readFile(paths.profileAuth('alice'), 'utf8');
    await mkdir(paths.stateDir, { recursive: true });
    await writeFile(paths.health, '{"broken', { mode: 0o600 });
    await runCodexLab(['remove', 'bob'], { home });
    await runCodexLab(['rename', 'alice', 'bob'], { home });
    await rm(paths.health);
    const list = await runCodexLab(['list', '--json'], { home });
    expect(list.code, list.stderr).toBe(0);
    // Before, this list replayed the leftover "remove bob" and deleted auth-profiles/bob, which
    // held alice's tokens by then.
    const listed = JSON.parse(list.stdout) as Array<{ name: string; email: string }>;
    const holder = listed.find((profile) => profile.email === 'alice@example.com');
    expect(holder).toBeDefined();
    expect(await readFile(paths.profileAuth(holder!.name), 'utf8')).toBe(aliceAuth);
    expect(await journalRecords(paths)).toEqual([]);
  });

  const snapshot2 = async () =>
    JSON.stringify([
      await readFile(paths.registry, 'utf8'),
      (await readdir(paths.profilesDir)).sort(),
    ]);

  it.each([
    [['rename', 'bob', '../x'], /"\.\.\/x" is not a valid profile name/],
    [['rename', 'bob', 'A B'], /"A B" is not a valid profile name/],
    [['rename', 'bob', 'x'.repeat(65)], /65 characters long; use at most 64/],
    [['rename', 'bob', 'Alice'], /A profile named "alice" already exists/],
    [['rename', 'bob', 'auto'], /reserved/],
    [['rename', 'bob', 'bob.'], /"bob\." cannot be a profile name because Windows/],
    [['rename', 'bob', 'con'], /"con" cannot be a profile name because Windows reserves it/],
    [['rename', 'bob', 'lpt1.work'], /"lpt1\.work" cannot be a profile name because Windows/],
    [['rename', 'ghost', 'x'], /no profile named "ghost"; run `codex-lab list`/],
    [['remove', 'ghost'], /no profile named "ghost"/],
    [['remove', 'bob', '--force'], /--force only goes with --revoke/],
    [['use', 'ghost'], /no profile named "ghost"/],
    [
      ['pin', 'ghost', '--session', '0199aabb-0000-7000-8000-000000000010'],
      /no profile named "ghost"/,
    ],
    [['pin', 'alice'], /exactly one of --session ID or --repo PATH/],
    [
      ['pin', 'alice', '--session', '0199aabb-0000-7000-8000-000000000011', '--repo', '.'],
      /exactly one of/,
    ],
    [['unpin'], /exactly one of/],
  ])('%j fails with one clear line, exit 2, and changes nothing', async (args, message) => {
    const before = await snapshot();
    const run = await runCodexLab(args, { home });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^codex-lab: /);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(await snapshot()).toBe(before);
  });

  it('refuses pin auto with --allow-fallback (auto removes the pin), keeping the pin', async () => {
    const repo = await mkdtemp(join(tmpdir(), 'codex-lab-repo-'));
    await mkdir(join(repo, '.git'));
    for (const target of [
      ['--session', '0199aabb-0000-7000-8000-000000000010'],
      ['--repo', repo],
    ]) {
      expect((await runCodexLab(['pin', 'bob', ...target], { home })).code).toBe(0);
      const before = await snapshot();
      const run = await runCodexLab(['pin', 'auto', ...target, '--allow-fallback'], { home });
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^codex-lab: --allow-fallback .*auto.*\.\n$/);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(await snapshot()).toBe(before);
    }
  });

  it('a registry that already holds a name now refused for Windows still loads', async () => {
    const registry = JSON.parse(await readFile(paths.registry, 'utf8')) as {
      profiles: Array<{ name: string }>;
    };
    registry.profiles.find((profile) => profile.name === 'bob')!.name = 'con';
    await writeFile(paths.registry, JSON.stringify(registry));
    await rename(paths.profileDir('bob'), paths.profileDir('con'));
    const list = await runCodexLab(['list', '--json'], { home });
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ name: string }>).map((p) => p.name)).toEqual([
      'alice',
      'con',
    ]);
    // And it can be renamed to a name that works everywhere.
    expect((await runCodexLab(['rename', 'CON', 'bob'], { home })).stdout).toBe(
      'Renamed con to bob.\n',
    );
  });

  it('refuses a rename onto a taken name, whatever its case', async () => {
    const before = await snapshot();
    for (const target of ['bob', 'BOB', 'Bob']) {
      const run = await runCodexLab(['rename', 'alice', target], { home });
      expect(run.code).toBe(2);
      // A typed name is read the same way everywhere: BOB is the name bob.
      expect(run.stderr).toMatch(/A profile named "bob" already exists/);
    }
    expect(await snapshot()).toBe(before);
  });

  it('reads a new name as every command reads a typed name: WORK is saved as work, and said so', async () => {
    const run = await runCodexLab(['rename', 'ALICE', 'WORK'], { home });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('Renamed alice to work (profile names are lower case).\n');
    expect((await store.listProfiles()).map((profile) => profile.name)).toEqual(['work', 'bob']);
    // Its own name in another case is the name it has: nothing to do, and nothing done.
    const before = await snapshot2();
    const same = await runCodexLab(['rename', 'work', 'WORK'], { home });
    expect(same.code).toBe(0);
    expect(same.stdout).toBe('work is already named work (profile names are lower case).\n');
    expect(await snapshot2()).toBe(before);
  });

  it('renames, sets the active profile, pins and unpins, and removes one profile only', async () => {
    const bobAuth = await readFile(paths.profileAuth('bob'), 'utf8');
    expect((await runCodexLab(['rename', 'alice', 'work'], { home })).code).toBe(0);
    expect((await runCodexLab(['use', 'work'], { home })).stdout).toContain('use work');
    const repo = await mkdtemp(join(tmpdir(), 'codex-lab-repo-'));
    await mkdir(join(repo, '.git'));
    const pin = await runCodexLab(['pin', 'work', '--repo', '.', '--allow-fallback'], {
      home,
      cwd: repo,
    });
    expect(pin.code).toBe(0);
    expect(
      (
        await runCodexLab(['pin', 'bob', '--session', '0199aabb-0000-7000-8000-000000000012'], {
          home,
        })
      ).code,
    ).toBe(0);
    let registry = await store.readRegistry();
    expect(registry.active).toBe('work');
    expect(registry.pins.repos[await realpath(repo)]).toMatchObject({
      profile: 'work',
      allowFallback: true,
    });
    expect(registry.pins.sessions['0199aabb-0000-7000-8000-000000000012']).toMatchObject({
      profile: 'bob',
      allowFallback: false,
    });

    expect(
      (await runCodexLab(['unpin', '--session', '0199aabb-0000-7000-8000-000000000012'], { home }))
        .stdout,
    ).toContain('Unpinned');
    expect(
      (await runCodexLab(['unpin', '--session', '0199aabb-0000-7000-8000-000000000012'], { home }))
        .stdout,
    ).toContain('nothing to do');
    const removed = await runCodexLab(['remove', 'work'], { home });
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain('Removed work');
    registry = await store.readRegistry();
    expect(registry.profiles.map((p) => p.name)).toEqual(['bob']);
    expect(registry.active).toBe('auto');
    expect(registry.pins.repos).toEqual({});
    expect(await readdir(paths.profilesDir)).toEqual(['bob']);
    expect(await readFile(paths.profileAuth('bob'), 'utf8')).toBe(bobAuth);
    expect((await runCodexLab(['use', 'auto'], { home })).stdout).toContain('auto');
    await rm(repo, { recursive: true, force: true });
  });

  it('remove --revoke keeps the profile and exits 1 when the issuer cannot be reached; --force removes it', async () => {
    const before = await readFile(paths.profileAuth('alice'), 'utf8');
    // Port 9 on loopback: nothing listens, so the revoke fails fast.
    const env = { CODEX_LAB_AUTH_ISSUER: 'http://127.0.0.1:9' };
    const refused = await runCodexLab(['remove', 'alice', '--revoke'], { home, env });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain("did not confirm revoking alice's tokens, so alice was kept");
    expect(refused.stderr).toContain('--force');
    expect((await store.listProfiles()).map((p) => p.name)).toEqual(['alice', 'bob']);
    expect(await readFile(paths.profileAuth('alice'), 'utf8')).toBe(before);

    const forced = await runCodexLab(['remove', 'alice', '--revoke', '--force'], { home, env });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('Removed alice (the issuer did not confirm the revoke');
    expect((await store.listProfiles()).map((p) => p.name)).toEqual(['bob']);
  });
});
