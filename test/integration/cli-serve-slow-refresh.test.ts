/**
 * A rename or remove typed while `codex-lab serve` is in the middle of a slow token refresh of
 * that profile: the router holds the change until the refresh's tokens are on disk. The command
 * must wait for the router's own answer, so what it says is what happened; before, it gave up
 * after 30 s, said the router "stopped answering" and to run the command again, and the router
 * applied the change moments later. And a command interrupted (Ctrl-C) while the router holds
 * its change says that the router still completes it, instead of exiting without a word.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expireAccessTokens, holdTokenAnswers, refreshTokenIsValid } from '../fakes/fake-issuer.ts';
import { spawnCli } from '../helpers/auth-harness.ts';
import { runCodexLab } from '../helpers/cli.ts';
import { startServe, startTwoProfileWorld, type TwoProfileWorld } from './cli-serve-helper.ts';

let world: TwoProfileWorld | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** How long the issuer takes with the refresh: past the old 30 s, inside the rename's lock wait. */
const slowRefreshMs = 33_000;

/** A turn pinned to `profile` through the router (its answer not yet read). */
function pinnedTurn(url: string, bearer: string, profile: string): Promise<Response> {
  return fetch(`${url}/backend-api/codex/responses`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${bearer}`,
      'content-type': 'application/json',
      session_id: 'slow-refresh-session',
      'x-codex-lab-profile': profile,
    },
    body: JSON.stringify({
      model: 'gpt-6.2-sol',
      stream: true,
      store: false,
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
    }),
  });
}

describe('a profile change during a slow token refresh in serve', () => {
  // Each case holds a refresh past the old 30 s in real time: they run side by side, each in a
  // world of its own (its own home, issuer and router), so the file waits that long once.
  it.concurrent.for<[string[], string, string[]]>([
    [['rename', 'alpha', 'work'], 'Renamed alpha to work.', ['work', 'beta']],
    [['remove', 'alpha'], 'Removed alpha.', ['beta']],
  ])(
    '%j waits for the router and reports what it did',
    { timeout: 120_000 },
    async ([args, said, names], { expect, onTestFinished }) => {
      const own = await startTwoProfileWorld('codex-lab-slow-refresh-');
      onTestFinished(() => own.close());
      const { fake, home } = own;
      const env = {
        CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
        CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
      };
      const serve = await startServe(home, env);
      own.children.push(serve);
      const bearer = (await readFile(join(home, 'state', 'router-token'), 'utf8')).trim();

      expireAccessTokens(fake, 'alpha@example.com');
      const hold = holdTokenAnswers(fake);
      const turn = pinnedTurn(serve.url, bearer, 'alpha');
      await hold.arrived;
      const release = setTimeout(() => hold.release(), slowRefreshMs);
      try {
        const run = await runCodexLab(args, { home, env, timeoutMs: 80_000 });
        // The wait is said once, as without a router: whose refresh it waits for.
        expect(run.stderr).toMatch(
          /^codex-lab: Waiting for Codex Lab process \d+, which holds profile alpha's token refresh [^\n]*\n$/,
        );
        expect(run.stdout).toContain(said);
        expect(run.code).toBe(0);
      } finally {
        clearTimeout(release);
        hold.release();
      }
      await (await turn).text().catch(() => '');

      const listed = await runCodexLab(['list', '--json'], { home, env });
      expect((JSON.parse(listed.stdout) as Array<{ name: string }>).map((p) => p.name)).toEqual(
        names,
      );
      // The refresh's rotated tokens reached the renamed profile (a remove drops them on purpose).
      if (args[0] === 'rename') {
        const auth = JSON.parse(
          await readFile(join(home, 'auth-profiles', 'work', 'auth.json'), 'utf8'),
        ) as { tokens: { refresh_token: string } };
        expect(refreshTokenIsValid(fake, auth.tokens.refresh_token)).toBe(true);
      }
    },
  );
});

describe('a profile change interrupted while serve holds it', () => {
  it('says on Ctrl-C that the router still completes it, and the router does', async () => {
    world = await startTwoProfileWorld('codex-lab-interrupted-change-');
    const { fake, home } = world;
    const env = {
      CODEX_LAB_HOME: home,
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    };
    const serve = await startServe(home, env);
    world.children.push(serve);
    const bearer = (await readFile(join(home, 'state', 'router-token'), 'utf8')).trim();

    expireAccessTokens(fake, 'alpha@example.com');
    const hold = holdTokenAnswers(fake);
    const turn = pinnedTurn(serve.url, bearer, 'alpha');
    await hold.arrived;
    try {
      const renaming = spawnCli(['rename', 'alpha', 'work'], env);
      // The router's rename waits for the refresh's lock: its claim on it is a folder beside it.
      const locks = join(home, 'state', 'locks');
      await expect
        .poll(
          async () =>
            (await readdir(locks)).some((name) => name.startsWith('refresh-alpha.lock.new-')),
          {
            timeout: 20_000,
            interval: 100,
          },
        )
        .toBe(true);
      renaming.child.kill('SIGINT');
      expect(await renaming.exited).toBe(130);
      expect(renaming.stderr()).toBe(
        `codex-lab: Stopped waiting; the router at ${serve.url} still completes the rename (all or nothing): codex-lab list shows when it has.\n`,
      );
    } finally {
      hold.release();
    }
    await (await turn).text().catch(() => '');
    const listed = async () =>
      (
        JSON.parse((await runCodexLab(['list', '--json'], { home, env })).stdout) as Array<{
          name: string;
        }>
      ).map((profile) => profile.name);
    await expect.poll(listed, { timeout: 10_000, interval: 250 }).toEqual(['work', 'beta']);
  }, 60_000);
});
