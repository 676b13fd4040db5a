/**
 * `codex-lab login` while a router runs: the browser sign-in is saved, then the router that was to
 * make it live dies. The command still succeeds, does not ask for the sign-in again, and records
 * the sign-in in the files, so the profile is healthy whatever router reads them next.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import { HealthStore } from '../../core/state/health-store.ts';
import { setNextLogin } from '../fakes/fake-issuer.ts';
import {
  authorizeLine,
  killRunning,
  spawnCli,
  visit,
  type CliProcess,
} from '../helpers/auth-harness.ts';
import { startServe, startTwoProfileWorld, type TwoProfileWorld } from './cli-serve-helper.ts';

let world: TwoProfileWorld;
const processes: CliProcess[] = [];

beforeEach(async () => {
  world = await startTwoProfileWorld('codex-lab-login-router-dies-');
});

afterEach(async () => {
  killRunning(processes, 'SIGKILL');
  await world.close();
});

describe('a sign-in whose router dies before it is made live', () => {
  it('succeeds once, without asking to sign in again, and leaves the profile healthy on disk', async () => {
    const { fake, home, children } = world;
    const paths = labPaths(home);
    const health = new HealthStore(paths);
    await health.markAuthError(
      'alpha',
      'refresh_token_reused',
      'alpha needs a new sign-in.',
      Date.now(),
    );
    const env = {
      CODEX_LAB_HOME: home,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_CALLBACK_PORT: '0',
    };
    const serve = await startServe(home, env);
    children.push(serve);

    // The router's sign-in operation reads the new sign-in's quota: held here until it is killed.
    let release = () => {};
    fake.account('alpha@example.com').usageHold = new Promise((resolve) => (release = resolve));
    setNextLogin(fake, 'alpha@example.com');
    const running = spawnCli(['login', 'alpha', '--no-browser'], env);
    processes.push(running);
    const usageReads = () =>
      fake.requests.filter((request) => request.path === '/backend-api/wham/usage').length;
    const before = usageReads();
    const page = await visit(await running.waitForLine(authorizeLine));
    expect(page.text).toContain('Signed in');
    // The router is inside the sign-in's operation once its quota read reaches the fake.
    const deadline = Date.now() + 30_000;
    while (usageReads() === before && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(usageReads()).toBeGreaterThan(before);
    serve.child.kill('SIGKILL');
    await serve.exited;
    release();

    expect(await running.exited, running.stderr()).toBe(0);
    expect(running.stdout().trim().split('\n').at(-1)).toBe(
      'Signed in as alpha@example.com (plus) — updated profile "alpha".',
    );
    // No way out that would have the user sign in in the browser again, and no stack trace.
    expect(running.stderr()).not.toMatch(/run the command again/);
    expect(running.stderr()).not.toMatch(/\n\s+at /);
    expect(running.stderr()).toMatch(/stopped answering/);
    expect((await health.get('alpha', Date.now())).status).toBe('ok');
  });
});
