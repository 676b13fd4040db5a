/**
 * Pins and suggestions a user can trust, through the built CLI: a session pin takes only a Codex
 * session id (a UUID, kept in lower case), a pin that moves from one profile to another says so
 * (and the activity log keeps it), and every command Codex Lab suggests runs when pasted (an
 * argument that needs quotes has them).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { noProfilesSentence } from '../../core/format.ts';
import { labPaths } from '../../core/home/paths.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { startTestRouter, type TestRouter } from '../helpers/lab-service.ts';
import { makeAuth } from '../helpers/profile-auth.ts';

/** A session id as Codex sends it (a UUID v7, lower case). */
const sessionId = '0199aabb-ccdd-7eef-8899-aabbccddeeff';

let folder: string;
let repo: string;
beforeAll(() => {
  folder = realpathSync(mkdtempSync(join(tmpdir(), 'codex-lab-pin-trust-')));
  // A path a shell splits, and a quote a naive single-quoting would end early on.
  repo = join(folder, "ünï repo's");
  mkdirSync(join(repo, '.git'), { recursive: true });
});
afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

describe('pins a user can trust', () => {
  let home: string;
  let store: ProfileStore;
  beforeEach(async () => {
    home = await makeTempHome();
    store = new ProfileStore({ paths: labPaths(home) });
    for (const [email, accountId] of [
      ['alice@example.com', 'a'],
      ['bob@example.com', 'b'],
    ] as const) {
      await store.saveSignIn({ auth: makeAuth({ email, accountId }), requestedName: null });
    }
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it.each([
    'not a uuid',
    // One character short.
    '01a23c22-48cb-75e1-b019-d9c842a1944',
    '01a23c22-48cb-75e1-b019-d9c842a1944z',
  ])('refuses pin --session %j in one sentence, exit 2, and pins nothing', async (typed) => {
    const run = await runCodexLab(['pin', 'alice', '--session', typed], { home });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `codex-lab: ${JSON.stringify(typed)} is not a Codex session id: give the session's UUID as Codex shows it (like 0199aabb-ccdd-7eef-8899-aabbccddeeff).\n`,
    );
    expect((await store.readRegistry()).pins.sessions).toEqual({});
  });

  it('takes a session id in any case and keeps it in lower case, as Codex sends it', async () => {
    const run = await runCodexLab(['pin', 'alice', '--session', sessionId.toUpperCase()], {
      home,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`Pinned session ${sessionId} to alice.\n`);
    expect(Object.keys((await store.readRegistry()).pins.sessions)).toEqual([sessionId]);
    // The same session typed in another case is the same pin.
    const again = await runCodexLab(['pin', 'alice', '--session', sessionId], { home });
    expect(again.stdout).toBe(`Session ${sessionId} is already pinned to alice; nothing to do.\n`);
    const unpin = await runCodexLab(['unpin', '--session', sessionId.toUpperCase()], { home });
    expect(unpin.stdout).toBe(`Unpinned session ${sessionId}.\n`);
    expect((await store.readRegistry()).pins.sessions).toEqual({});
  });

  it('still unpins a session pinned before ids had to be UUIDs', async () => {
    await store.updateRegistry((registry) => {
      registry.pins.sessions['thread-1'] = {
        profile: 'alice',
        allowFallback: false,
        createdAt: new Date().toISOString(),
      };
    });
    const run = await runCodexLab(['unpin', 'alice', '--session', 'thread-1'], { home });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('Unpinned session thread-1.\n');
  });

  it('quotes a path in the command it suggests, so that the command runs when pasted', async () => {
    expect((await runCodexLab(['pin', 'bob', '--repo', repo], { home })).code).toBe(0);
    const run = await runCodexLab(['unpin', 'alice', '--repo', repo], { home });
    expect(run.code).toBe(2);
    const quoted = `'${repo.replaceAll("'", "'\\''")}'`;
    expect(run.stderr).toBe(
      `codex-lab: Repo ${repo} is pinned to bob, not alice: run codex-lab unpin bob --repo ${quoted}, or leave the name out.\n`,
    );
    // Pasted into a POSIX shell, the suggestion reads back as the path it names.
    const command = /run (codex-lab unpin .*), or leave/.exec(run.stderr)![1]!;
    const words = execFileSync(
      'sh',
      ['-c', `printf '%s\\n' ${command.slice('codex-lab '.length)}`],
      {
        encoding: 'utf8',
      },
    );
    expect(words).toBe(`unpin\nbob\n--repo\n${repo}\n`);
  });
});

describe('a pin moved from one profile to another while a router runs', () => {
  let router: TestRouter;
  beforeAll(async () => {
    router = await startTestRouter({
      homePrefix: 'codex-lab-pin-moved-',
      accounts: [{ email: 'alice@example.com' }, { email: 'bob@example.com' }],
      profiles: [
        ['alice@example.com', 'alice'],
        ['bob@example.com', 'bob'],
      ],
      hosted: true,
    });
  });
  afterAll(async () => {
    await router?.close();
  });

  const activity = async () =>
    (await router.service.getState()).activity.map((entry) => entry.message);

  it('says so on the command line, in the activity log and in the control API answer', async () => {
    const home = router.home;
    expect((await runCodexLab(['pin', 'alice', '--repo', repo], { home })).code).toBe(0);
    const moved = await runCodexLab(['pin', 'bob', '--repo', repo], { home });
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toBe(`Pinned repo ${repo} to bob (was alice).\n`);
    expect(await activity()).toContain(`Pinned ${repo} to bob (was alice).`);

    expect((await runCodexLab(['pin', 'alice', '--session', sessionId], { home })).code).toBe(0);
    const session = await runCodexLab(['pin', 'bob', '--session', sessionId], { home });
    expect(session.stdout).toBe(`Pinned session ${sessionId} to bob (was alice).\n`);
    expect(await activity()).toContain(`Pinned session ${sessionId} to bob (was alice).`);

    // The dashboard's pin form reads the same answer from the operation.
    expect(await router.service.pinRepo({ path: repo, profile: 'alice' })).toEqual({
      ok: true,
      value: { replaced: 'bob' },
    });
    expect(await router.service.pinRepo({ path: repo, profile: 'alice' })).toEqual({
      ok: true,
      value: { replaced: null },
    });
    // And refuses a session id that is not a UUID, as the CLI does, with nothing pinned.
    expect(await router.service.pinSession({ sessionId: 'not a uuid', profile: 'alice' })).toEqual({
      ok: false,
      code: 'invalid_argument',
      message:
        '"not a uuid" is not a Codex session id: give the session\'s UUID as Codex shows it (like 0199aabb-ccdd-7eef-8899-aabbccddeeff).',
    });
  });
});

describe('argument errors and empty homes', () => {
  let home: string;
  beforeEach(async () => {
    home = await makeTempHome();
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it("an empty name points at the command's own help, exit 2, as commander's errors do", async () => {
    const run = await runCodexLab(['rename', 'alice', ''], { home });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'codex-lab: Missing the new profile name; run codex-lab rename --help for usage.\n',
    );
  });

  it('prime on a home with no profiles says there are none yet', async () => {
    const run = await runCodexLab(['prime'], { home });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${noProfilesSentence}\n`);
  });

  it('serve --host with an address it cannot use refuses it without the exposure warning', async () => {
    const run = await runCodexLab(['serve', '--host', 'not a host', '--port', '0'], { home });
    expect(run.code).toBe(2);
    expect(run.stderr).not.toContain('WARNING');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
