/**
 * A turn whose stream the upstream cuts in mid-turn (Codex sees "stream disconnected before
 * completion" and retries) is logged as such, through the real router and the fake ChatGPT: the
 * status the upstream gave stays, and the request view, `codex-lab log --json` and the `log` table
 * say how the stream ended, in the words of `core/format.ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCodexLab } from '../helpers/cli.ts';
import {
  codexTurnBody,
  postToRouter,
  startTestRouter,
  type TestRouter,
} from '../helpers/lab-service.ts';
import { requestStatusText } from '../../core/format.ts';

let router: TestRouter;

beforeAll(async () => {
  router = await startTestRouter({
    homePrefix: 'codex-lab-stream-ending-',
    accounts: [{ email: 'work@example.com' }],
    profiles: [['work@example.com', 'work']],
    // Turns over HTTP: a WebSocket drop the router resumes never reaches Codex.
    prepareFake: (fake) => {
      fake.webSocketUpgrades = 'refuse';
    },
  });
  await router.service.setActive({ profile: 'work' });
});

afterAll(() => router.close());

/** Posts a turn and reads its stream to the end; true when the stream broke before its end. */
async function turn(session: string): Promise<boolean> {
  const response = await postToRouter(
    router.url,
    router.token,
    '/backend-api/codex/responses',
    codexTurnBody({ session }),
  );
  expect(response.status).toBe(200);
  try {
    await response.text();
    return false;
  } catch {
    return true;
  }
}

describe('per-request log: a stream that ended early', () => {
  it('keeps the upstream’s 200 and says the upstream cut the stream, on every surface', async () => {
    router.fake.account('work@example.com').failures.push({ kind: 'reset_mid_stream' });
    expect(await turn('session-cut')).toBe(true);
    expect(await turn('session-calm')).toBe(false);

    const requests = await router.service.getRequests({});
    const cut = requests.find((request) => request.sessionId === 'session-cut');
    const calm = requests.find((request) => request.sessionId === 'session-calm');
    expect(cut).toMatchObject({ status: 200, ending: 'upstream_cut', tokens: null });
    expect(calm).toMatchObject({ status: 200, ending: null });

    // The journal, read without the router, says the same.
    await router.service.stop();
    const run = await runCodexLab(['log', '--json'], { home: router.home });
    expect(run.code, run.stderr).toBe(0);
    const logged = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { sessionId: string; status: number; ending: unknown });
    expect(logged.find((request) => request.sessionId === 'session-cut')).toMatchObject({
      status: 200,
      ending: 'upstream_cut',
    });
    expect(logged.find((request) => request.sessionId === 'session-calm')).toMatchObject({
      ending: null,
    });

    const table = await runCodexLab(['log', '--wide'], { home: router.home });
    const cutLine = table.stdout.split('\n').find((line) => line.includes('session-cut'));
    const calmLine = table.stdout.split('\n').find((line) => line.includes('session-calm'));
    const cutStatus = requestStatusText({ status: 200, ending: 'upstream_cut' });
    expect(cutStatus).not.toBe('200');
    expect(cutLine).toContain(` ${cutStatus} `);
    expect(calmLine).toMatch(/ 200 /);
    expect(calmLine).not.toContain(cutStatus);
    await router.service.start({ port: 0 });
  });
});
