/**
 * `codex-lab token --rotate [--revoke-old]` against a real `codex-lab serve` on loopback: the new
 * token works at once, the old one during its grace period, and not at all after `--revoke-old`;
 * an event stream opened with a refused token ends. Without a router the file alone changes; a
 * corrupt token file is named and left untouched. No token ever appears in the output.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { postTurn, startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';

let fake: FakeChatGpt;
let home: string;
const children: ServeChild[] = [];

function env(): Record<string, string> {
  return { CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl, CODEX_LAB_AUTH_ISSUER: fake.issuerUrl };
}

/** The token the home's file holds now. */
async function storedToken(): Promise<string> {
  return (await readFile(join(home, 'state', 'router-token'), 'utf8')).trim();
}

/** The status of `GET /lab/v1/state` with `bearer`. */
async function stateStatus(serve: ServeChild, bearer: string): Promise<number> {
  const answer = await fetch(`${serve.url}/lab/v1/state`, {
    headers: { authorization: `Bearer ${bearer}` },
  });
  await answer.arrayBuffer();
  return answer.status;
}

beforeEach(async () => {
  fake = await startFakeChatGpt();
  fake.addAccount({ email: 'alpha@example.com' });
  home = await makeTempHome('codex-lab-token-rotate-');
  await seedProfiles(fake, home, [{ name: 'alpha', email: 'alpha@example.com' }]);
});

afterEach(async () => {
  await stopServes(children);
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

describe('codex-lab token --rotate', () => {
  it('a running serve adopts the new token at once, keeps the old one for its grace, and refuses it with --revoke-old', async () => {
    const first = (await runCodexLab(['token'], { home, env: env() })).stdout.trim();
    const serve = await startServe(home, env());
    children.push(serve);
    expect(await stateStatus(serve, first)).toBe(200);

    const rotated = await runCodexLab(['token', '--rotate'], { home, env: env() });
    expect(rotated.code).toBe(0);
    const second = await storedToken();
    expect(second).not.toBe(first);
    expect(rotated.stdout.trim().split('\n')).toHaveLength(1);
    expect(rotated.stdout).toMatch(/new router token/i);
    expect(rotated.stdout).toMatch(/still accepts the old one until/);
    for (const token of [first, second]) {
      expect(rotated.stdout + rotated.stderr).not.toContain(token);
    }

    // The new token works at once, on the control API and for a routed turn.
    expect(await stateStatus(serve, second)).toBe(200);
    const turn = await postTurn(serve, second, 'rotate-session');
    expect(turn.status).toBe(200);
    expect(turn.headers.get('x-codex-lab-profile')).toBe('alpha');
    await turn.text();
    // The old one still works during its grace period (sessions that have not refreshed yet).
    expect(await stateStatus(serve, first)).toBe(200);
    // Plain `token` prints the new one (what Codex's token command reads next).
    expect((await runCodexLab(['token'], { home, env: env() })).stdout.trim()).toBe(second);

    // A dashboard's event stream opened with the token about to be revoked.
    const stream = await fetch(`${serve.url}/lab/v1/events`, {
      headers: { authorization: `Bearer ${second}`, accept: 'text/event-stream' },
    });
    expect(stream.status).toBe(200);
    const streamEnded = stream.text().then(() => true);

    const revoked = await runCodexLab(['token', '--rotate', '--revoke-old'], {
      home,
      env: env(),
    });
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/refuses the old one/);
    const third = await storedToken();
    for (const token of [first, second, third]) {
      expect(revoked.stdout + revoked.stderr).not.toContain(token);
    }
    expect(await stateStatus(serve, third)).toBe(200);
    expect(await stateStatus(serve, second)).toBe(401);
    expect(await stateStatus(serve, first)).toBe(401);
    // A turn with a refused router token is answered 401 by the router (Codex then runs its token
    // command again), never passed through: the upstream must not see a router token.
    const refusedTurn = await postTurn(serve, second, 'revoked-session');
    expect(refusedTurn.status).toBe(401);
    await refusedTurn.arrayBuffer();
    const carried = fake.requests.map((request) => String(request.headers['authorization'] ?? ''));
    expect(carried.filter((value) => value.includes('clab_'))).toEqual([]);
    // The stream that token opened ends, so the dashboard reconnects, is refused, and says so.
    expect(await streamEnded).toBe(true);

    // Other commands find the router again with the new token.
    const status = await runCodexLab(['status'], { home, env: env() });
    expect(status.code).toBe(0);
    expect(serve.output()).not.toContain(first);
    expect(serve.output()).not.toContain(second);
    expect(serve.output()).not.toContain(third);
  });

  it('with no router running, replaces the token file; a corrupt file is named and left as it is', async () => {
    const first = (await runCodexLab(['token'], { home, env: env() })).stdout.trim();
    const rotated = await runCodexLab(['token', '--rotate'], { home, env: env() });
    expect(rotated.code).toBe(0);
    expect(rotated.stdout.trim().split('\n')).toHaveLength(1);
    const second = await storedToken();
    expect(second).not.toBe(first);
    expect(rotated.stdout + rotated.stderr).not.toContain(second);

    const file = join(home, 'state', 'router-token');
    await writeFile(file, 'garbage\n');
    const refused = await runCodexLab(['token', '--rotate'], { home, env: env() });
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain(file);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(await readFile(file, 'utf8')).toBe('garbage\n');
  });

  it('a running serve adopts a token file changed under it (a rotation that found no router answering, a restore): the first request with it is served', async () => {
    const first = (await runCodexLab(['token'], { home, env: env() })).stdout.trim();
    const serve = await startServe(home, env());
    children.push(serve);
    expect(await stateStatus(serve, first)).toBe(200);
    // Another process replaces the file without asking the router, as a rotation does when it
    // starts while the router is still coming up.
    const replaced = `clab_${'x'.repeat(43)}`;
    await writeFile(join(home, 'state', 'router-token'), `${replaced}\n`, { mode: 0o600 });
    expect(await stateStatus(serve, replaced)).toBe(200);
    const turn = await postTurn(serve, replaced, 'replaced-file-session');
    expect(turn.status).toBe(200);
    await turn.text();
    // The token it held until then gets the grace a rotation gives it.
    expect(await stateStatus(serve, first)).toBe(200);
    // A token neither in the file nor held is refused.
    expect(await stateStatus(serve, `clab_${'y'.repeat(43)}`)).toBe(401);
  });

  it("a token file changed behind a running serve is adopted without a request: the router proves the file's token, and a rotation goes through it", async () => {
    const serve = await startServe(home, env());
    children.push(serve);
    const replaced = `clab_${'w'.repeat(43)}`;
    await writeFile(join(home, 'state', 'router-token'), `${replaced}\n`, { mode: 0o600 });
    // Until the router has adopted the file, --rotate refuses and changes nothing; then it asks
    // the router (which proves the file's token), and the router writes the new one.
    await vi.waitFor(
      async () => {
        const rotated = await runCodexLab(['token', '--rotate', '--revoke-old'], {
          home,
          env: env(),
        });
        expect(rotated.stdout + rotated.stderr).toMatch(/running router uses it now/);
      },
      { timeout: 10_000, interval: 200 },
    );
    const current = await storedToken();
    expect(current).not.toBe(replaced);
    expect(await stateStatus(serve, current)).toBe(200);
    expect(await stateStatus(serve, replaced)).toBe(401);
  });

  it('--revoke-old without --rotate is refused with one sentence', async () => {
    const run = await runCodexLab(['token', '--revoke-old'], { home, env: env() });
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/--revoke-old .*--rotate/);
  });
});
