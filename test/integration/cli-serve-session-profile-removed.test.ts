/**
 * `remove` of the profile a live session is on: the session's next turn goes to another account
 * (it has to), and every surface says it moved because its profile was removed — the request's
 * route is a fallback that left it ("fallback after alpha was removed: best by quota" in the live
 * sessions and the Requests panel, "alpha was removed" in `codex-lab log`'s FALLBACK column), so
 * `codex-lab codex`'s exit line says the move too. Before, the turn was recorded as a new session's
 * ("best by quota", nothing left), as if the session had never been anywhere: the user removing an
 * account mid-session was not told that session's prompt cache and reasoning stayed behind.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runCodexLab } from '../helpers/cli.ts';
import {
  postTurn,
  startServe,
  startTwoProfileWorld,
  type TwoProfileWorld,
} from './cli-serve-helper.ts';

let world: TwoProfileWorld;

beforeEach(async () => {
  world = await startTwoProfileWorld('codex-lab-session-removed-');
});

afterEach(() => world.close());

const session = '0199aabb-0000-7000-8000-0000000000a1';

it('a session whose profile is removed moves as a fallback that names it', async () => {
  const { fake, home } = world;
  const env = {
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
  };
  const serve = await startServe(home, env);
  world.children.push(serve);
  const token = (await runCodexLab(['token'], { home })).stdout.trim();
  expect((await runCodexLab(['use', 'alpha'], { home, env })).code).toBe(0);
  const first = await postTurn(serve, token, session);
  expect(first.status).toBe(200);
  expect(await first.text()).toContain('Hello from alpha.');

  expect((await runCodexLab(['remove', 'alpha'], { home, env })).code).toBe(0);
  const second = await postTurn(serve, token, session);
  expect(second.status).toBe(200);
  expect(await second.text()).toContain('Hello from beta.');

  const headers = { authorization: `Bearer ${token}` };
  const requests = (await (
    await fetch(`${serve.url}/lab/v1/requests?session=${session}`, { headers })
  ).json()) as Array<{ profile: string; route: string; why: { left: unknown[] } }>;
  const moved = requests.find((request) => request.profile === 'beta');
  expect(moved?.route).toBe('fallback');
  expect(moved?.why.left).toEqual([{ profile: 'alpha', code: 'removed' }]);

  const sessions = (await (
    await fetch(`${serve.url}/lab/v1/sessions`, { headers })
  ).json()) as Array<{
    id: string;
    profile: string;
    route: string;
  }>;
  expect(sessions.find((entry) => entry.id === session)).toMatchObject({
    profile: 'beta',
    route: 'fallback',
  });

  const log = await runCodexLab(['log', '--wide', '--session', session], { home, env });
  expect(log.code).toBe(0);
  expect(log.stdout).toMatch(/beta\s+best by quota\s.*alpha was removed/);
}, 60_000);
