/**
 * `codex-lab log` while a router runs: the router writes `state/activity.jsonl` in batches (about
 * once a second), so the log asks it for its live rows too, through the state the CLI already asks
 * it for (`list`, `usage --pool`), and shows each request once. Here the router's journal writes
 * are held until the test lets them go, so "right after a turn" is not a race.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock, type Clock } from '../../core/ports.ts';
import { runCodexLab } from '../helpers/cli.ts';
import { startTestRouter, turnThroughRouter, type TestRouter } from '../helpers/lab-service.ts';

/** The journal's batch delay (`Journal`'s `flushDelayMs` default). */
const journalBatchMs = 1000;

/** The system clock, but timers of the journal's batch delay wait until `release`. */
function holdingClock(): Clock & { release(): void } {
  const held: Array<() => void> = [];
  return {
    now: () => systemClock.now(),
    setTimeout(callback, delayMs) {
      if (delayMs !== journalBatchMs) return systemClock.setTimeout(callback, delayMs);
      let cancelled = false;
      held.push(() => {
        if (!cancelled) callback();
      });
      return () => {
        cancelled = true;
      };
    },
    release() {
      for (const run of held.splice(0)) run();
    },
  };
}

const clock = holdingClock();
let router: TestRouter;

beforeAll(async () => {
  router = await startTestRouter({
    homePrefix: 'codex-lab-cli-log-live-',
    accounts: [{ email: 'work@example.com' }],
    profiles: [['work@example.com', 'work']],
    hosted: true,
    clock,
  });
});

afterAll(() => router?.close());

const journal = () => readFile(router.paths.activity, 'utf8').catch(() => '');

/** The sessions of the turns `log --json` printed, in its order. */
async function loggedSessions(args: string[] = []): Promise<string[]> {
  const run = await runCodexLab(['log', '--json', ...args], { home: router.home });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return run.stdout
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { sessionId: string; kind: string })
    .filter((request) => request.kind === 'responses')
    .map((request) => request.sessionId);
}

describe('codex-lab log with a router running', () => {
  it("shows the turn the journal has not got yet, and the journal's turns once each", async () => {
    await turnThroughRouter(router.url, router.token, 'session-written');
    clock.release();
    await vi.waitFor(async () => expect(await journal()).toContain('session-written'));

    await turnThroughRouter(router.url, router.token, 'session-just-now');
    // Still only in the router's memory: the batch that carries it is held.
    expect(await journal()).not.toContain('session-just-now');

    expect(await loggedSessions()).toEqual(['session-written', 'session-just-now']);
    // Filters apply to the live rows as to the file's.
    expect(await loggedSessions(['--session', 'session-just-now'])).toEqual(['session-just-now']);

    // Once written, still once each.
    clock.release();
    await vi.waitFor(async () => expect(await journal()).toContain('session-just-now'));
    expect(await loggedSessions()).toEqual(['session-written', 'session-just-now']);
  });
});
