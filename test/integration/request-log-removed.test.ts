/**
 * A removed profile's request history stays its own: a profile that later takes the name (by a
 * rename, or a sign-in) never inherits it, in the router's log and totals, in the journal and in
 * `codex-lab log --profile`, whether the removal went through a running router or was made with
 * none. A real router (LabService on loopback) against the fake ChatGPT, and `codex-lab` children.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCodexLab } from '../helpers/cli.ts';
import {
  createTestLabService,
  startTestRouter,
  turnThroughRouter,
  type TestRouter,
} from '../helpers/lab-service.ts';

let router: TestRouter | undefined;
afterEach(async () => {
  await router?.close();
  router = undefined;
});

async function start(): Promise<TestRouter> {
  router = await startTestRouter({
    homePrefix: 'codex-lab-removed-log-',
    accounts: [
      { email: 'carol@example.com', usagePerTurn: 0 },
      { email: 'zed@example.com', usagePerTurn: 0 },
      { email: 'bob@example.com', usagePerTurn: 0 },
    ],
    profiles: [
      ['carol@example.com', 'carol'],
      ['zed@example.com', 'zed2'],
      ['bob@example.com', 'bob'],
    ],
  });
  return router;
}

/** One turn of `session` pinned by header to `name`. */
async function turn(lab: TestRouter, session: string, name: string): Promise<void> {
  const answer = await turnThroughRouter(lab.url, lab.token, session, {
    'x-codex-lab-profile': name,
  });
  expect(answer.headers.get('x-codex-lab-profile')).toBe(name);
}

/** The sessions of the turns `codex-lab log --profile NAME --json` lists. */
async function sessionsOf(home: string, name: string): Promise<string[]> {
  const run = await runCodexLab(['log', '--profile', name, '--json'], { home });
  expect(run.code, run.stderr).toBe(0);
  return run.stdout
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { sessionId: string; kind: string })
    .filter((request) => request.kind === 'responses')
    .map((request) => request.sessionId);
}

describe('a removed profile’s requests', () => {
  it('are not inherited by the profile renamed to its name while the router runs', async () => {
    const lab = await start();
    await turn(lab, 'sess-old-carol', 'carol');
    await turn(lab, 'sess-zed', 'zed2');
    expect((await lab.service.removeProfile({ profile: 'carol' })).ok).toBe(true);
    expect((await lab.service.renameProfile({ from: 'zed2', to: 'carol' })).ok).toBe(true);

    const state = await lab.service.getState();
    expect(
      state.requests
        .filter((request) => request.profile === 'carol')
        .map((request) => request.sessionId),
    ).toEqual(['sess-zed']);
    expect(state.totals.week.profiles.find((total) => total.key === 'carol')?.requests).toBe(1);
    // The journal says the same to `codex-lab log` once the router has written it.
    await vi.waitFor(
      async () => expect(await sessionsOf(lab.home, 'carol')).toEqual(['sess-zed']),
      {
        timeout: 5000,
      },
    );
  });

  it('keep their live sessions on the dashboard, named as the requests name them', async () => {
    const lab = await start();
    await turn(lab, 'sess-carol', 'carol');
    expect((await lab.service.removeProfile({ profile: 'carol' })).ok).toBe(true);

    const state = await lab.service.getState();
    expect(state.requests.map((request) => [request.sessionId, request.profile])).toEqual([
      ['sess-carol', 'carol (removed)'],
    ]);
    expect(state.sessions.map((session) => [session.id, session.profile])).toEqual([
      ['sess-carol', 'carol (removed)'],
    ]);
    // Its next turn goes to a profile there is, and the session follows it.
    const answer = await turnThroughRouter(lab.url, lab.token, 'sess-carol');
    const served = answer.headers.get('x-codex-lab-profile');
    expect(['zed2', 'bob']).toContain(served);
    const after = await lab.service.getState();
    expect(after.sessions.map((session) => [session.id, session.profile])).toEqual([
      ['sess-carol', served],
    ]);
  });

  it('are not inherited when the removal and the rename are made with no router running', async () => {
    const lab = await start();
    await turn(lab, 'sess-old-carol', 'carol');
    await turn(lab, 'sess-zed', 'zed2');
    await lab.service.stop();

    const removed = await runCodexLab(['remove', 'carol'], { home: lab.home });
    expect(removed.code, removed.stderr).toBe(0);
    // While no profile has the name, it still finds the removed profile's requests.
    expect(await sessionsOf(lab.home, 'carol')).toEqual(['sess-old-carol']);
    const renamed = await runCodexLab(['rename', 'zed2', 'carol'], { home: lab.home });
    expect(renamed.code, renamed.stderr).toBe(0);
    expect(await sessionsOf(lab.home, 'carol')).toEqual(['sess-zed']);

    // A router started on the home reads the journal the same way.
    const next = createTestLabService(lab.fake, lab.paths);
    try {
      await next.start({ port: 0 });
      const state = await next.getState();
      expect(
        state.requests
          .filter((request) => request.profile === 'carol')
          .map((request) => request.sessionId),
      ).toEqual(['sess-zed']);
      // Its live sessions say whose they were, as its requests do.
      expect(state.sessions.map((session) => [session.id, session.profile])).toEqual([
        ['sess-zed', 'carol'],
        ['sess-old-carol', 'carol (removed)'],
      ]);
    } finally {
      await next.stop();
    }
  });
});
