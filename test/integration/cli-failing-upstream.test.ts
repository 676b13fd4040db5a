/**
 * An account whose circuit the running router opened (its turns answered 5xx while another
 * account served) is not shown as ready anywhere: `list`, `usage`, `usage --pool` and `status`
 * ask the running `serve` for its live state, say the account is failing upstream and until when
 * it is skipped, and name where new sessions really go.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { PoolSummaryView, ProfileView } from '../../core/service/contract.ts';
import { runCodexLab } from '../helpers/cli.ts';
import {
  postTurn,
  startServe,
  startTwoProfileWorld,
  type TwoProfileWorld,
} from './cli-serve-helper.ts';

let world: TwoProfileWorld;

beforeEach(async () => {
  world = await startTwoProfileWorld('codex-lab-cli-failing-');
});

afterEach(() => world.close());

it('list, usage, usage --pool and status say an account with an open circuit is failing upstream', async () => {
  const { fake, home, children } = world;
  const env = {
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    CODEX_LAB_UPSTREAM_WEBSOCKET: 'off',
  };
  const serve = await startServe(home, env);
  children.push(serve);
  const token = (await runCodexLab(['token'], { home })).stdout.trim();
  const turn = async (session: string) => {
    const answer = await postTurn(serve, token, session);
    await answer.text();
    return `${answer.headers.get('x-codex-lab-profile') ?? '-'}:${answer.status}`;
  };
  expect(
    (
      await runCodexLab(['pin', 'beta', '--session', '0199aabb-0000-7000-8000-000000000010'], {
        home,
      })
    ).code,
  ).toBe(0);
  expect(
    (
      await runCodexLab(['pin', 'alpha', '--session', '0199aabb-0000-7000-8000-000000000011'], {
        home,
      })
    ).code,
  ).toBe(0);
  // beta serves; then alpha's turns fail while beta works: alpha's failures are its own.
  expect(await turn('0199aabb-0000-7000-8000-000000000010')).toBe('beta:200');
  fake.account('alpha@example.com').stickyFailure = { kind: 'server_error', status: 500 };
  for (let attempt = 0; attempt < 3; attempt += 1)
    expect(await turn('0199aabb-0000-7000-8000-000000000011')).toBe('alpha:500');

  const listed = await runCodexLab(['list', '--json'], { home });
  expect(listed.code, listed.stderr).toBe(0);
  const views = JSON.parse(listed.stdout) as ProfileView[];
  const alpha = views.find((view) => view.name === 'alpha')!;
  expect(alpha.skippedUntil).toBeDefined();
  expect(Date.parse(alpha.skippedUntil!)).toBeGreaterThan(Date.now());
  expect(views.find((view) => view.name === 'beta')!.skippedUntil).toBeUndefined();

  const failing = /alpha\s.*failing upstream, tried again in \d+s/;
  const table = await runCodexLab(['list', '--wide'], { home });
  expect(table.stdout).toMatch(failing);
  expect(table.stdout).not.toMatch(/alpha\s.*\bready\b/);
  expect(table.stdout).toMatch(/New sessions → beta/);
  expect((await runCodexLab(['usage', '--wide'], { home })).stdout).toMatch(failing);

  const pool = JSON.parse(
    (await runCodexLab(['usage', '--pool', '--json'], { home })).stdout,
  ) as PoolSummaryView;
  expect(pool.next.profile).toBe('beta');
  expect(pool.eligible).toEqual(['beta']);

  expect((await runCodexLab(['status'], { home })).stdout).toMatch(
    /alpha: failing upstream, tried again in \d+s\./,
  );
});
