import { mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { journalPending } from '../../core/profiles/journal.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { makeTempHome, runCodexLab, type CliRun } from '../helpers/cli.ts';
import { makeAuth, secretsOf } from '../helpers/profile-auth.ts';

// Signed in on plus, since upgraded: the upstream's last answer (quota.json) says pro.
const alice = { email: 'alice@example.com', accountId: 'acct-alice', plan: 'plus' };
const bob = { email: 'bob@example.com', accountId: 'acct-bob' };
const legacy = { email: 'old@example.com', accountId: 'acct-old' };

function expectNoSecrets(runs: CliRun[], secrets: string[]): void {
  for (const run of runs) {
    for (const secret of secrets) {
      expect(run.stdout).not.toContain(secret);
      expect(run.stderr).not.toContain(secret);
    }
  }
}

describe('codex-lab list', () => {
  let home: string;
  let paths: LabPaths;
  beforeEach(async () => {
    home = await makeTempHome();
    paths = labPaths(home);
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('lists a lone legacy auth.json as default and leaves it byte-for-byte and mtime unchanged', async () => {
    const text = `${JSON.stringify(makeAuth(legacy), null, 2)}\n`;
    await writeFile(paths.legacyAuth, text, { mode: 0o600 });
    // An old mtime, so a rewrite within the same second could not go unnoticed.
    await utimes(
      paths.legacyAuth,
      new Date('2025-01-02T03:04:05Z'),
      new Date('2025-01-02T03:04:05Z'),
    );
    const before = await stat(paths.legacyAuth);

    const human = await runCodexLab(['list'], { home });
    const json = await runCodexLab(['list', '--json'], { home });
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    // Off a terminal the table fits 100 columns: the email is left out, and `--wide` shows it.
    expect(human.stdout).toMatch(/default \(legacy\)\s+plus\s/);
    expect(human.stdout).toContain('Not shown at 100 columns: EMAIL (see codex-lab list --wide).');
    const wide = await runCodexLab(['list', '--wide'], { home });
    expect(wide.stdout).toMatch(/default \(legacy\)\s+old@example\.com\s+plus/);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject([
      {
        name: 'default',
        email: 'old@example.com',
        accountId: 'acct-old',
        legacy: true,
        active: false,
      },
    ]);

    const after = await stat(paths.legacyAuth);
    expect(await readFile(paths.legacyAuth, 'utf8')).toBe(text);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.mode & 0o777).toBe(before.mode & 0o777);
    await expect(stat(paths.registry)).rejects.toThrow();
  });

  it('prints the JSON contract from the registry and the state files, with no token anywhere', async () => {
    const store = new ProfileStore({ paths });
    const aliceAuth = makeAuth(alice);
    const bobAuth = makeAuth(bob);
    const legacyAuth = makeAuth(legacy);
    await store.saveSignIn({ auth: aliceAuth, requestedName: null });
    await store.saveSignIn({ auth: bobAuth, requestedName: null });
    await writeFile(paths.legacyAuth, JSON.stringify(legacyAuth), { mode: 0o600 });
    await store.setActive('bob');
    await store.setPriming('alice', { enabled: true });
    const now = Date.now();
    const inTwoHours = now + 2 * 3600_000;
    const inFourDays = now + 4 * 86_400_000;
    await mkdir(paths.stateDir, { recursive: true });
    await writeFile(
      paths.health,
      JSON.stringify({
        version: 1,
        profiles: {
          bob: {
            status: 'limited',
            unavailableUntil: inTwoHours,
            code: 'usage_limit_reached',
            message: 'x',
            updatedAt: now,
          },
          default: {
            status: 'auth_error',
            unavailableUntil: null,
            code: 'refresh_token_reused',
            message: 'Sign in again.',
            updatedAt: now,
          },
        },
      }),
    );
    await writeFile(
      paths.quota,
      JSON.stringify({
        version: 1,
        profiles: {
          alice: {
            latest: {
              observedAt: now,
              source: 'usage',
              plan: 'pro',
              primary: { usedPercent: 42, windowMinutes: 300, resetsAt: inTwoHours },
              secondary: { usedPercent: 7.5, windowMinutes: 10080, resetsAt: inFourDays },
              credits: null,
              activeLimit: null,
              limitReached: false,
              others: [],
            },
            history: [{ at: now, primary: 42, secondary: 7.5 }],
          },
        },
      }),
    );

    const json = await runCodexLab(['list', '--json'], { home });
    const human = await runCodexLab(['list'], { home });
    const wide = await runCodexLab(['list', '--wide'], { home });
    expect(json.code).toBe(0);
    const views = JSON.parse(json.stdout);
    expect(views.map((view: { name: string }) => view.name)).toEqual(['alice', 'bob', 'default']);
    expect(views[0]).toMatchObject({
      name: 'alice',
      email: 'alice@example.com',
      plan: 'pro',
      accountId: 'acct-alice',
      active: false,
      status: 'unknown',
      unavailableUntil: null,
      priming: true,
      quota: {
        primary: {
          usedPercent: 42,
          windowMinutes: 300,
          resetsAt: new Date(inTwoHours).toISOString(),
        },
        secondary: {
          usedPercent: 7.5,
          windowMinutes: 10080,
          resetsAt: new Date(inFourDays).toISOString(),
        },
      },
    });
    expect(views[1]).toMatchObject({
      name: 'bob',
      active: true,
      status: 'limited',
      unavailableUntil: new Date(inTwoHours).toISOString(),
      priming: false,
      quota: { primary: null, secondary: null },
    });
    expect(views[2]).toMatchObject({ name: 'default', status: 'auth_error', legacy: true });

    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^\*\s+bob\s/m);
    // What is left, rounded as the pool's headroom is: 7.5 % used leaves 93 % (100 − 7.5, rounded).
    expect(human.stdout).toMatch(
      /alice\s+pro\s+not checked yet\s+58% · (1h 5\dm|2h)\s+93% · (3d 2\dh|4d)\s+on/,
    );
    expect(human.stdout).toMatch(/bob .*limited, back in (1h 5\dm|2h)\s/);
    expect(wide.stdout).toMatch(
      /alice\s+alice@example\.com\s+pro\s+not checked yet\s+58% left, resets in (1h 5\dm|2h)\s+93% left, resets in (3d 2\dh|4d)\s+on/,
    );
    expect(wide.stdout).toMatch(/bob .*limited, back in (1h 5\dm|2h), at \d\d:\d\d/);
    // Human output says what the status means, never the raw code.
    expect(human.stdout).toMatch(/default \(legacy\).*needs sign-in/);
    expect(human.stdout).not.toContain('auth_error');
    expect(human.stdout).toContain('Active: bob');

    const errors = [
      await runCodexLab(['rename', 'alice', 'bob'], { home }),
      await runCodexLab(['pin', 'ghost', '--session', '0199aabb-0000-7000-8000-000000000010'], {
        home,
      }),
      await runCodexLab(['remove', 'ghost'], { home }),
    ];
    // A name taken or naming nothing is the user's input: exit 2.
    for (const run of errors) expect(run.code).toBe(2);
    expectNoSecrets(
      [json, human, wide, ...errors],
      [aliceAuth, bobAuth, legacyAuth].flatMap(secretsOf),
    );
  });

  it('--json gives each profile its pins, as pins --json and the control API shape them', async () => {
    const store = new ProfileStore({ paths });
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    await store.saveSignIn({ auth: makeAuth(bob), requestedName: null });
    await store.setPin('session', '0199aabb-0000-7000-8000-000000000011', 'alice', true);
    await store.setPin('session', '0199aabb-0000-7000-8000-000000000012', 'alice');
    const json = await runCodexLab(['list', '--json'], { home });
    const pins = await runCodexLab(['pins', '--json'], { home });
    const table = await runCodexLab(['list'], { home });
    expect(json.code).toBe(0);
    const views = JSON.parse(json.stdout) as Array<{ name: string; pins: unknown[] }>;
    const all = JSON.parse(pins.stdout) as Array<{ profile: string }>;
    expect(all).toHaveLength(2);
    expect(views.find((view) => view.name === 'alice')?.pins).toEqual(all);
    expect(views.find((view) => view.name === 'bob')?.pins).toEqual([]);
    expect(all[0]).toMatchObject({
      kind: 'session',
      key: '0199aabb-0000-7000-8000-000000000011',
      allowFallback: true,
    });
    // The table's PINS column counts the same pins.
    expect(table.stdout).toMatch(/^\s*alice\s.*\spinned \(2\)\s*$/m);
  });

  it('reports a corrupt registry by name, exits 1 and leaves the file unchanged', async () => {
    await writeFile(paths.registry, '{"version":1,"profiles":[{"name":');
    for (const args of [['list'], ['list', '--json'], ['use', 'auto'], ['rename', 'a', 'b']]) {
      const run = await runCodexLab(args, { home });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`codex-lab: ${paths.registry} is not valid JSON`);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(await readFile(paths.registry, 'utf8')).toBe('{"version":1,"profiles":[{"name":');
  });

  it('reports a corrupt auth.json by name, still lists the others, and leaves the file unchanged', async () => {
    const store = new ProfileStore({ paths });
    const aliceAuth = makeAuth(alice);
    await store.saveSignIn({ auth: aliceAuth, requestedName: null });
    await store.saveSignIn({ auth: makeAuth(bob), requestedName: null });
    const broken = `${JSON.stringify(aliceAuth).slice(0, 120)}`;
    await writeFile(paths.profileAuth('alice'), broken);
    const run = await runCodexLab(['list', '--json'], { home });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`codex-lab: ${paths.profileAuth('alice')} is not valid JSON`);
    const views = JSON.parse(run.stdout);
    expect(views.map((view: { name: string; status: string }) => [view.name, view.status])).toEqual(
      [
        ['alice', 'auth_error'],
        ['bob', 'unknown'],
      ],
    );
    expect(await readFile(paths.profileAuth('alice'), 'utf8')).toBe(broken);
    expectNoSecrets([run], secretsOf(aliceAuth));
  });

  it('says a profile whose auth.json does not parse has an unreadable file, not that it needs a sign-in', async () => {
    const store = new ProfileStore({ paths });
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    await store.saveSignIn({ auth: makeAuth(bob), requestedName: null });
    await writeFile(paths.profileAuth('alice'), '{"auth_mode":"chatgpt","tokens":{');
    const run = await runCodexLab(['list'], { home });
    expect(run.code).toBe(1);
    const row = run.stdout.split('\n').find((line) => /^\s+alice\s/.test(line))!;
    expect(row).toContain('auth file unreadable');
    expect(row).not.toContain('needs sign-in');
    expect(run.stdout).not.toMatch(/alice needs|codex-lab login alice|Needs sign-in: alice/);
    expect(run.stdout).toContain('Auth file unreadable: alice');
    expect(run.stderr).toContain(`codex-lab: ${paths.profileAuth('alice')} is not valid JSON`);
    const json = JSON.parse((await runCodexLab(['list', '--json'], { home })).stdout) as Array<{
      name: string;
      statusCode?: string;
    }>;
    expect(json.find((view) => view.name === 'alice')!.statusCode).toBe('corrupt_file');
  });

  it('sets an unreadable journal record aside, content untouched, names it on every listing and still lists the profiles', async () => {
    const store = new ProfileStore({ paths });
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    const torn = '{"op":"rename","from":"alice","to":';
    await mkdir(paths.journalDir, { recursive: true });
    await writeFile(`${paths.journalDir}/000001764550000000-0a1b2c3d-rename.json`, torn);
    const aside = `${paths.journalDir}/unreadable/000001764550000000-0a1b2c3d-rename.json`;
    for (const args of [['list'], ['list', '--json']]) {
      const run = await runCodexLab(args, { home });
      expect(run.code).toBe(1);
      expect(run.stderr.trim()).toBe(
        `codex-lab: ${aside} records an interrupted profile change that this version of Codex Lab cannot read, so that change was not finished from it; it may hold an account's tokens: move it away only once your profiles work.`,
      );
      expect(run.stdout).toContain('alice');
    }
    expect(await readFile(aside, 'utf8')).toBe(torn);
    // Out of the journal: later loads no longer take the registry lock to replay it.
    expect(await journalPending(paths.journalDir)).toBe(false);
    await rm(aside);
    expect((await runCodexLab(['list'], { home })).code).toBe(0);
  });

  it('finishes a record set aside earlier once it reads (one a newer version wrote, after an upgrade)', async () => {
    const store = new ProfileStore({ paths });
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    await store.saveSignIn({ auth: makeAuth(bob), requestedName: null });
    const aside = `${paths.journalDir}/unreadable/000001764550000001-0a1b2c3e-remove.json`;
    await mkdir(`${paths.journalDir}/unreadable`, { recursive: true });
    await writeFile(
      aside,
      JSON.stringify({
        op: 'remove',
        name: 'bob',
        keyring: false,
        legacy: false,
        account: { accountId: bob.accountId, email: bob.email },
      }),
    );
    // Any registry operation replays the journal first.
    expect((await runCodexLab(['use', 'auto'], { home })).code).toBe(0);
    const listed = await runCodexLab(['list', '--json'], { home });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).map((view: { name: string }) => view.name)).toEqual(['alice']);
    await expect(stat(aside)).rejects.toThrow();
  });

  it('names what the registry points at that no profile is (a hand edit): the active profile and pins', async () => {
    const store = new ProfileStore({ paths });
    await store.saveSignIn({ auth: makeAuth(alice), requestedName: null });
    const registry = JSON.parse(await readFile(paths.registry, 'utf8'));
    registry.active = 'ghost';
    registry.pins.sessions['0199aabb-0000-7000-8000-000000000013'] = {
      profile: 'nobody',
      allowFallback: false,
      createdAt: '2026-11-30T00:00:00.000Z',
    };
    await writeFile(paths.registry, JSON.stringify(registry));
    const expected = [
      'codex-lab: The active profile "ghost" does not exist, so new sessions are routed automatically; choose one with codex-lab use NAME, or codex-lab use auto.',
      'codex-lab: The session pin 0199aabb-0000-7000-8000-000000000013 names "nobody", which does not exist, so its turns are refused; remove it with codex-lab unpin --session 0199aabb-0000-7000-8000-000000000013.',
    ];
    const list = await runCodexLab(['list'], { home });
    expect(list.code).toBe(0);
    expect(list.stderr.trim().split('\n')).toEqual(expected);
    const pins = await runCodexLab(['pins'], { home });
    expect(pins.code).toBe(0);
    expect(pins.stderr.trim().split('\n')).toEqual(expected);
    expect(
      (await runCodexLab(['unpin', '--session', '0199aabb-0000-7000-8000-000000000013'], { home }))
        .code,
    ).toBe(0);
    expect((await runCodexLab(['use', 'auto'], { home })).code).toBe(0);
    expect((await runCodexLab(['list'], { home })).stderr).toBe('');
  });

  it('says how to add a profile when there is none', async () => {
    const run = await runCodexLab(['list'], { home });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('codex-lab login');
    expect(JSON.parse((await runCodexLab(['list', '--json'], { home })).stdout)).toEqual([]);
  });
});
