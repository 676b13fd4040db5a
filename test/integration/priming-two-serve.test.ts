/**
 * Issue "priming", done when: two `serve` processes on one home send one priming request between
 * them. Two real `codex-lab serve --port 0` children start at once on one CODEX_LAB_HOME with a
 * profile whose weekly window has not started; since one router owns a home (docs/design.md section 8)
 * exactly one of them serves and the other says where it runs and exits 1, and the fake ChatGPT
 * counts one priming turn.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { humanizeTimes } from '../../core/format.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { addUnstartedAccounts } from '../helpers/fake-windows.ts';
import { postToRouter } from '../helpers/lab-service.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';

let fake: FakeChatGpt;
let home: string;
const children: ServeChild[] = [];

beforeEach(async () => {
  fake = await startFakeChatGpt();
  addUnstartedAccounts(fake, ['alpha@example.com'], fake.nowSeconds());
  home = await makeTempHome('codex-lab-two-serve-');
  await seedProfiles(fake, home, [{ name: 'alpha', email: 'alpha@example.com' }]);
});

afterEach(async () => {
  await stopServes(children);
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

function primingRequests() {
  return fake.requests.filter(
    (request) => request.method === 'POST' && request.path === '/backend-api/codex/responses',
  );
}

async function waitFor(condition: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

it('two serve processes started at once on one home: one serves, the other exits 1, one priming request', async () => {
  expect((await runCodexLab(['priming', 'on', 'alpha'], { home })).code).toBe(0);
  const env = {
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    // The timer's period (tests and tuning), which also caps the follow-up and the spread: a look
    // every second, not every 15 minutes. Idle detection needs two looks more than 5 s apart.
    CODEX_LAB_PRIMING_POLL_MS: '1000',
  };
  const started = await Promise.allSettled([startServe(home, env), startServe(home, env)]);
  const serving = started.flatMap((result) =>
    result.status === 'fulfilled' ? [result.value] : [],
  );
  const refused = started.flatMap((result) =>
    result.status === 'rejected' ? [result.reason] : [],
  );
  children.push(...serving);
  expect(serving).toHaveLength(1);
  expect(refused).toHaveLength(1);
  expect(String(refused[0])).toMatch(
    /A Codex Lab router already runs for this home on http:\/\/127\.0\.0\.1:\d+ \(codex-lab serve, pid \d+\)/,
  );
  const first = serving[0]!;

  // Primed, then confirmed from a later observation that shows the window started.
  await waitFor(async () => {
    const text = await readFile(join(home, 'state', 'priming.json'), 'utf8').catch(() => '');
    // Two looks 6 s apart, a spread of up to one period, a fresh look, the send, a follow-up
    // look a period later: about 8 s on a quiet machine; CI runs this beside every other suite
    // on two cores.
    return text.includes('"confirmed"');
  }, 75_000);
  // Another look (one router looks now, asked through its control API rather than waiting 20 s
  // for its first usage poll) changes nothing.
  const token = (await runCodexLab(['token'], { home })).stdout.trim();
  const usageReads = () =>
    fake.requests.filter((request) => request.path === '/backend-api/wham/usage').length;
  const looks = usageReads();
  const refreshed = await postToRouter(first.url, token, '/lab/v1/refreshUsage', {});
  expect(await refreshed.json()).toEqual({ ok: true, value: { refreshed: ['alpha'], unread: [] } });
  expect(usageReads()).toBeGreaterThan(looks);

  const primes = primingRequests();
  expect(primes).toHaveLength(1);
  const body = JSON.parse(primes[0]!.body) as Record<string, unknown>;
  expect(body).not.toHaveProperty('instructions');
  expect(body).not.toHaveProperty('tools');
  expect(body['store']).toBe(false);
  expect(fake.account('alpha@example.com').secondary!.unstarted).toBe(false);

  // Both processes show it: `list --json` has the last outcome, the control API the activity.
  const list = await runCodexLab(['list', '--json'], { home });
  expect(JSON.parse(list.stdout)[0].primingLast).toMatchObject({
    window: 'weekly',
    outcome: 'confirmed',
  });
  const activities = await Promise.all(
    [first].map(async (serve) => {
      const answer = await fetch(`${serve.url}/lab/v1/state`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return ((await answer.json()) as { activity: Array<{ kind: string; message: string }> })
        .activity;
    }),
  );
  const primeLines = activities.flat().filter((entry) => entry.kind === 'prime');
  expect(primeLines.some((entry) => /sent a priming turn/.test(entry.message))).toBe(true);
  for (const entry of primeLines) {
    // The state names moments in ISO; every surface words them in its own zone, as here.
    expect(humanizeTimes(entry.message, { now: Date.now() })).not.toMatch(
      /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/,
    );
    expect(entry.message).toMatch(/\.$/);
  }

  first.child.kill('SIGTERM');
  expect(await first.exited).toEqual({ code: 0, signal: null });
}, 150_000);
