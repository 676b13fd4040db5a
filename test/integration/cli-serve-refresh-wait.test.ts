/**
 * A turn whose profile's token refresh outlasts the request's wait, in `codex-lab serve`: the
 * issuer answering late, or the router paused (a laptop asleep, SIGSTOP) while the refresh was on
 * the wire. With no other profile to try, the turn waits for the refresh it joined and is served
 * with the new token; before, it was answered 503 `no_eligible_profile` moments before the
 * refresh landed. What it records is what served it: one row for alpha (pinned), its tokens
 * counted for alpha, and no refusal in the dashboard's activity (before, the log said "refused"
 * and the activity "REFUSED … alpha failed on this request" for a turn alpha answered).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  expireAccessTokens,
  holdTokenAnswers,
  refreshTokenIsValid,
  setAccessTokenLifetime,
} from '../fakes/fake-issuer.ts';
import { runCodexLab } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { startServe, startTwoProfileWorld, type TwoProfileWorld } from './cli-serve-helper.ts';

let world: TwoProfileWorld | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** How long a request waits for a refresh here (the router's default is 30 s). */
const refreshWaitMs = 1_000;

/** A turn pinned to alpha (no fallback), through the router (its answer not yet read). */
function pinnedTurn(url: string, bearer: string): Promise<Response> {
  return fetch(`${url}/backend-api/codex/responses`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${bearer}`,
      'content-type': 'application/json',
      session_id: 'refresh-wait-session',
      'x-codex-lab-profile': 'alpha',
    },
    body: JSON.stringify({
      model: 'gpt-6.2-sol',
      stream: true,
      store: false,
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
    }),
  });
}

describe('a turn waiting on a refresh that lands late', () => {
  it.each([
    ['the issuer answers after the wait', false],
    ['the router is paused past the wait', true],
  ])(
    'is served with the new token when %s',
    async (_label, paused) => {
      world = await startTwoProfileWorld('codex-lab-refresh-wait-');
      const { fake, home } = world;
      const serve = await startServe(home, {
        CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
        CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
        CODEX_LAB_REFRESH_WAIT_MS: String(refreshWaitMs),
      });
      world.children.push(serve);
      const bearer = (await readFile(join(home, 'state', 'router-token'), 'utf8')).trim();

      expireAccessTokens(fake, 'alpha@example.com');
      const hold = holdTokenAnswers(fake);
      const turn = pinnedTurn(serve.url, bearer);
      await hold.arrived;
      if (paused) {
        // Asleep while the issuer answers: on waking, the wait's timer is overdue and the answer
        // waits on the socket.
        serve.child.kill('SIGSTOP');
        await new Promise((resolve) => setTimeout(resolve, refreshWaitMs * 2));
        hold.release();
        await new Promise((resolve) => setTimeout(resolve, 200));
        serve.child.kill('SIGCONT');
      } else {
        await new Promise((resolve) => setTimeout(resolve, refreshWaitMs * 2.5));
        hold.release();
      }
      const answer = await turn;
      const body = await answer.text();
      expect(answer.status, body).toBe(200);
      expect(body).toContain('Hello from alpha.');
      const auth = JSON.parse(
        await readFile(join(home, 'auth-profiles', 'alpha', 'auth.json'), 'utf8'),
      ) as { tokens: { refresh_token: string } };
      expect(refreshTokenIsValid(fake, auth.tokens.refresh_token)).toBe(true);

      // Recorded as served by alpha, never as refused.
      const env = { CODEX_LAB_HOME: home };
      const logged = await runCodexLab(['log', '--json'], { home, env });
      const rows = logged.stdout
        .trim()
        .split('\n')
        .map(
          (line) =>
            JSON.parse(line) as {
              sessionId: string | null;
              profile: string | null;
              route: string | null;
              status: number;
              tokens: unknown;
            },
        )
        .filter((row) => row.sessionId === 'refresh-wait-session');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ profile: 'alpha', route: 'pinned', status: 200 });
      expect(rows[0]!.tokens).not.toBeNull();
      const state = (await (
        await fetch(`${serve.url}/lab/v1/state`, { headers: { authorization: `Bearer ${bearer}` } })
      ).json()) as { activity: Array<{ kind: string; message: string }> };
      expect(state.activity.filter((entry) => entry.kind === 'refused')).toEqual([]);
    },
    30_000,
  );
});

describe('a turn that sets off an early refresh the issuer is slow to answer', () => {
  it('goes out at once on the still-valid token, and nothing says the refresh failed', async () => {
    world = await startTwoProfileWorld('codex-lab-early-refresh-');
    const { fake, home } = world;
    // Two minutes left on each access token: inside the five-minute margin.
    setAccessTokenLifetime(fake, 120);
    await seedProfiles(fake, home, [
      { name: 'alpha', email: 'alpha@example.com' },
      { name: 'beta', email: 'beta@example.com' },
    ]);
    setAccessTokenLifetime(fake, 3600);
    const serve = await startServe(home, {
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    });
    world.children.push(serve);
    const bearer = (await readFile(join(home, 'state', 'router-token'), 'utf8')).trim();
    const seeded = (
      JSON.parse(await readFile(join(home, 'auth-profiles', 'alpha', 'auth.json'), 'utf8')) as {
        tokens: { refresh_token: string };
      }
    ).tokens.refresh_token;

    const hold = holdTokenAnswers(fake);
    const answer = await pinnedTurn(serve.url, bearer);
    const body = await answer.text();
    expect(answer.status, body).toBe(200);
    expect(body).toContain('Hello from alpha.');
    hold.release();
    // The refresh lands on its own.
    await expect
      .poll(
        async () =>
          (
            JSON.parse(
              await readFile(join(home, 'auth-profiles', 'alpha', 'auth.json'), 'utf8'),
            ) as { tokens: { refresh_token: string } }
          ).tokens.refresh_token,
        { timeout: 10_000, interval: 100 },
      )
      .not.toBe(seeded);
    expect(serve.output()).not.toMatch(/early refresh failed/i);
  }, 30_000);
});
