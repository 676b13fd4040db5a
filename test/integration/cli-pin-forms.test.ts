/**
 * `unpin NAME --repo PATH | --session ID`, the counterpart of `pin NAME …`, and a pin made again
 * as it stands: a no-op that says so and adds nothing to the activity log, with or without a
 * running router.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { startTestRouter, type TestRouter } from '../helpers/lab-service.ts';
import { makeAuth } from '../helpers/profile-auth.ts';

let repo: string;
beforeAll(() => {
  repo = realpathSync(mkdtempSync(join(tmpdir(), 'codex-lab-pin-forms-repo-')));
  mkdirSync(join(repo, '.git'));
});
afterAll(() => {
  rmSync(repo, { recursive: true, force: true });
});

describe('codex-lab unpin NAME', () => {
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
    [['--repo', 'REPO'], 'repos'],
    [['--session', '0199aabb-0000-7000-8000-000000000010'], 'sessions'],
  ] as const)(
    'unpin NAME %j removes the pin NAME holds, as unpin without NAME does',
    async (target, kind) => {
      const args = target.map((arg) => (arg === 'REPO' ? repo : arg));
      const key = args[1]!;
      expect((await runCodexLab(['pin', 'alice', ...args], { home })).code).toBe(0);
      const run = await runCodexLab(['unpin', 'ALICE', ...args], { home });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(`Unpinned ${kind === 'repos' ? 'repo' : 'session'} ${key}.\n`);
      expect((await store.readRegistry()).pins[kind]).toEqual({});
    },
  );

  it('refuses unpin NAME of a pin another profile holds in one sentence, and keeps the pin', async () => {
    expect((await runCodexLab(['pin', 'alice', '--repo', repo], { home })).code).toBe(0);
    const run = await runCodexLab(['unpin', 'bob', '--repo', repo], { home });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `codex-lab: Repo ${repo} is pinned to alice, not bob: run codex-lab unpin alice --repo ${repo}, or leave the name out.\n`,
    );
    expect((await store.readRegistry()).pins.repos[repo]).toMatchObject({ profile: 'alice' });
    // A name that is no profile is said as every command says it.
    const ghost = await runCodexLab(['unpin', 'ghost', '--repo', repo], { home });
    expect(ghost.code).toBe(2);
    expect(ghost.stderr).toMatch(/^codex-lab: .*no profile named "ghost"/);
  });

  it('unpin NAME with no pin there has nothing to do', async () => {
    const run = await runCodexLab(
      ['unpin', 'alice', '--session', '0199aabb-0000-7000-8000-000000000011'],
      { home },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      'No pin for session 0199aabb-0000-7000-8000-000000000011; nothing to do.\n',
    );
  });

  it('pin made again as it stands says so and changes nothing', async () => {
    expect((await runCodexLab(['pin', 'alice', '--repo', repo], { home })).code).toBe(0);
    const before = await store.readRegistry();
    const again = await runCodexLab(['pin', 'alice', '--repo', repo], { home });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`Repo ${repo} is already pinned to alice; nothing to do.\n`);
    expect(await store.readRegistry()).toEqual(before);
    // Another fallback setting is a change.
    const fallback = await runCodexLab(['pin', 'alice', '--repo', repo, '--allow-fallback'], {
      home,
    });
    expect(fallback.stdout).toBe(`Pinned repo ${repo} to alice (falls over when exhausted).\n`);
  });
});

describe('a pin made again while a router runs', () => {
  let router: TestRouter;
  beforeAll(async () => {
    router = await startTestRouter({
      homePrefix: 'codex-lab-pin-again-',
      accounts: [{ email: 'alpha@example.com' }],
      profiles: [['alpha@example.com', 'alpha']],
      hosted: true,
    });
  });
  afterAll(async () => {
    await router?.close();
  });

  const pinLines = async () =>
    (await router.service.getState()).activity
      .map((entry) => entry.message)
      .filter((message) => /pinned/i.test(message));

  it.each([
    [['--repo', 'REPO'], 'Repo REPO is already pinned to alpha; nothing to do.\n'],
    [
      ['--session', '0199aabb-0000-7000-8000-000000000010'],
      'Session 0199aabb-0000-7000-8000-000000000010 is already pinned to alpha; nothing to do.\n',
    ],
  ])(
    '%j twice: one activity line, and the second run says it was already so',
    async (target, second) => {
      const args = target.map((arg) => (arg === 'REPO' ? repo : arg));
      const home = router.home;
      const before = (await pinLines()).length;
      const first = await runCodexLab(['pin', 'alpha', ...args], { home });
      expect(first.code, first.stderr).toBe(0);
      const again = await runCodexLab(['pin', 'alpha', ...args], { home });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toBe(second.replace('REPO', repo));
      expect((await pinLines()).length).toBe(before + 1);
      // Through the control API (the dashboard's way) too: nothing new is logged.
      expect(
        (args[0] === '--repo'
          ? await router.service.pinRepo({ path: repo, profile: 'alpha' })
          : await router.service.pinSession({ sessionId: args[1]!, profile: 'alpha' })
        ).ok,
      ).toBe(true);
      expect((await pinLines()).length).toBe(before + 1);
      // Unpinned twice: one more line, not two.
      expect((await runCodexLab(['unpin', ...args], { home })).code).toBe(0);
      expect(
        (args[0] === '--repo'
          ? await router.service.pinRepo({ path: repo, profile: null })
          : await router.service.pinSession({ sessionId: args[1]!, profile: null })
        ).ok,
      ).toBe(true);
      expect((await pinLines()).length).toBe(before + 2);
    },
  );
});
