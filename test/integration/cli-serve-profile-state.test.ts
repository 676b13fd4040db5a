/**
 * `codex-lab rename` / `remove` carry a profile's router-side state (quota, priming outcomes,
 * pins) with it and leave other profiles alone; `list` shows priming state and last outcome; a
 * profile that served turns has its last use recorded. A profile marked "needs sign-in" because
 * its auth file went missing is not left that way once the file is back (restored from a backup,
 * moved back): a `usage --refresh` (or the router's poll) shows its tokens work and pinned turns
 * are served again; `list` with no router does not call it signed out while its file holds tokens.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { recordPrimingOutcome } from '../../core/priming/scheduler.ts';
import { HealthStore } from '../../core/state/health-store.ts';
import type { FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { expireAccessTokens, scriptRefresh } from '../fakes/fake-issuer.ts';
import { runCodexLab } from '../helpers/cli.ts';
import { journalRecords } from '../helpers/journal-records.ts';
import {
  type ServeChild,
  type TwoProfileWorld,
  postTurn,
  startServe,
  startTwoProfileWorld,
  stopServes,
} from './cli-serve-helper.ts';

let world: TwoProfileWorld;
let fake: FakeChatGpt;
let home: string;
let paths: LabPaths;
let children: ServeChild[];

beforeEach(async () => {
  world = await startTwoProfileWorld('codex-lab-cli-state-');
  ({ fake, home, children } = world);
  paths = labPaths(home);
});

afterEach(() => world.close());

/** A state file, parsed (loosely typed, for assertions). */
async function json(path: string) {
  return JSON.parse(await readFile(path, 'utf8'));
}

it('rename moves and remove forgets quota, priming and pins; list shows the last priming', async () => {
  const env = {
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
  };
  expect((await runCodexLab(['usage', '--refresh'], { home, env })).code).toBe(0);
  expect(
    (
      await runCodexLab(['pin', 'alpha', '--session', '0199aabb-0000-7000-8000-000000000010'], {
        home,
      })
    ).code,
  ).toBe(0);
  expect(
    (
      await runCodexLab(['pin', 'beta', '--session', '0199aabb-0000-7000-8000-000000000011'], {
        home,
      })
    ).code,
  ).toBe(0);
  expect((await runCodexLab(['priming', 'on', 'alpha'], { home })).code).toBe(0);
  const at = Date.now() - 2 * 3600_000;
  await recordPrimingOutcome(paths, 'alpha', {
    at,
    window: 'weekly',
    outcome: 'confirmed',
    message: 'the weekly window started',
  });
  await recordPrimingOutcome(paths, 'beta', {
    at,
    window: 'weekly',
    outcome: 'failed',
    message: 'not retried: the upstream answered 401',
  });

  const listed = await runCodexLab(['list'], { home });
  expect(listed.stdout).toMatch(/alpha .*on, confirmed 2h( \dm)? ago/);
  expect(listed.stdout).toMatch(/beta .*off, failed 2h( \dm)? ago/);
  const listedJson = JSON.parse((await runCodexLab(['list', '--json'], { home })).stdout);
  expect(listedJson[0]).toMatchObject({
    name: 'alpha',
    priming: true,
    primingLast: { outcome: 'confirmed', window: 'weekly', at: new Date(at).toISOString() },
  });
  expect(listedJson[1]).toMatchObject({
    name: 'beta',
    priming: false,
    primingLast: { outcome: 'failed' },
  });

  const betaQuota = (await json(paths.quota)).profiles.beta;
  const betaPriming = (await json(paths.priming)).profiles.beta;
  expect((await runCodexLab(['rename', 'alpha', 'gamma'], { home })).code).toBe(0);
  let quota = await json(paths.quota);
  expect(Object.keys(quota.profiles).sort()).toEqual(['beta', 'gamma']);
  expect(quota.profiles.beta).toEqual(betaQuota);
  let priming = await json(paths.priming);
  expect(Object.keys(priming.profiles).sort()).toEqual(['beta', 'gamma']);
  expect(priming.profiles.beta).toEqual(betaPriming);
  expect(
    (await json(paths.registry)).pins.sessions['0199aabb-0000-7000-8000-000000000010'].profile,
  ).toBe('gamma');
  const renamed = JSON.parse((await runCodexLab(['list', '--json'], { home })).stdout);
  expect(renamed[0]).toMatchObject({ name: 'gamma', primingLast: { outcome: 'confirmed' } });
  expect(renamed[0].quota.secondary).not.toBeNull();

  expect((await runCodexLab(['remove', 'gamma'], { home })).code).toBe(0);
  quota = await json(paths.quota);
  expect(Object.keys(quota.profiles)).toEqual(['beta']);
  expect(quota.profiles.beta).toEqual(betaQuota);
  priming = await json(paths.priming);
  expect(Object.keys(priming.profiles)).toEqual(['beta']);
  expect(priming.profiles.beta).toEqual(betaPriming);
  expect(Object.keys((await json(paths.registry)).pins.sessions)).toEqual([
    '0199aabb-0000-7000-8000-000000000011',
  ]);
});

it('a profile that serves turns through the router has its last use recorded (list --json lastUsedAt)', async () => {
  const env = {
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
  };
  const serve = await startServe(home, env);
  try {
    const token = (await runCodexLab(['token'], { home })).stdout.trim();
    expect(
      (
        await runCodexLab(['pin', 'beta', '--session', '0199aabb-0000-7000-8000-000000000012'], {
          home,
        })
      ).code,
    ).toBe(0);
    const before = Date.now();
    const answer = await postTurn(serve, token, '0199aabb-0000-7000-8000-000000000012');
    expect(answer.status).toBe(200);
    await answer.text();
    // Written off the request path: wait for the registry to say so.
    const deadline = Date.now() + 10_000;
    let views: Array<{ name: string; lastUsedAt: string | null }> = [];
    while (Date.now() < deadline) {
      views = JSON.parse((await runCodexLab(['list', '--json'], { home })).stdout);
      if (views.some((view) => view.lastUsedAt !== null)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const used = Object.fromEntries(views.map((view) => [view.name, view.lastUsedAt]));
    expect(used['alpha']).toBeNull();
    expect(Date.parse(used['beta']!)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(used['beta']!)).toBeLessThanOrEqual(Date.now());
  } finally {
    await stopServes([serve]);
  }
});

/** beta's status as `list --json` reports it. */
async function betaStatus(): Promise<string> {
  const run = await runCodexLab(['list', '--json'], { home });
  const views = JSON.parse(run.stdout) as Array<{ name: string; status: string }>;
  return views.find((view) => view.name === 'beta')!.status;
}

it('a missing auth file put back: the router serves pinned turns again on its own, and list agrees', async () => {
  const env = {
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
  };
  const serve = await startServe(home, env);
  children.push(serve);
  const token = (await runCodexLab(['token'], { home })).stdout.trim();
  expect(
    (
      await runCodexLab(['pin', 'beta', '--session', '0199aabb-0000-7000-8000-000000000013'], {
        home,
      })
    ).code,
  ).toBe(0);

  const aside = `${paths.profileAuth('beta')}.moved`;
  await rename(paths.profileAuth('beta'), aside);
  const refused = await postTurn(serve, token, '0199aabb-0000-7000-8000-000000000013');
  expect(refused.status).toBe(400);
  await refused.text();
  // The activity says it once, not "beta needs a new sign-in: beta needs a new sign-in (…)".
  const state = (await (
    await fetch(`${serve.url}/lab/v1/state`, { headers: { authorization: `Bearer ${token}` } })
  ).json()) as { activity: Array<{ kind: string; message: string }> };
  // What the dashboard's activity keeps names no command (the card has "Sign in again").
  const refusedLines = state.activity.filter((entry) => entry.kind === 'refused');
  expect(refusedLines.map((entry) => entry.message)).toEqual([
    'Refused session 0199aabb-0000-7000-8000-000000000013 (400 not_signed_in): The pinned profile beta needs a new sign-in.',
  ]);
  const signIn = state.activity.filter((entry) => entry.kind === 'auth_error');
  expect(signIn.length).toBeGreaterThan(0);
  for (const entry of signIn) {
    expect(entry.message.split('needs a new sign-in')).toHaveLength(2);
  }
  expect(await betaStatus()).toBe('auth_error');

  // Put back (from a backup, say): the router sees the tokens on its next look at the files,
  // with no sign-in and no command.
  await rename(aside, paths.profileAuth('beta'));
  const deadline = Date.now() + 10_000;
  let served = await postTurn(serve, token, '0199aabb-0000-7000-8000-000000000013');
  while (served.status !== 200 && Date.now() < deadline) {
    await served.text();
    await new Promise((resolve) => setTimeout(resolve, 200));
    served = await postTurn(serve, token, '0199aabb-0000-7000-8000-000000000013');
  }
  expect(served.status).toBe(200);
  expect(served.headers.get('x-codex-lab-profile')).toBe('beta');
  expect(await betaStatus()).not.toBe('auth_error');
  await served.text();
});

it('with no router, list does not call a profile signed out for a missing file once its file holds tokens, but keeps a spent sign-in so', async () => {
  const health = new HealthStore(paths);
  // What a router recorded while beta's file was missing, and a refresh alpha's issuer refused.
  await health.markAuthError('beta', 'not_signed_in', 'beta holds no tokens', Date.now());
  await health.markAuthError('alpha', 'refresh_token_reused', 'alpha was signed out', Date.now());
  const run = await runCodexLab(['list', '--json'], { home });
  const views = JSON.parse(run.stdout) as Array<{ name: string; status: string }>;
  expect(views.map((view) => [view.name, view.status])).toEqual([
    ['alpha', 'auth_error'],
    ['beta', 'unknown'],
  ]);
  const env = {
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
  };
  expect((await runCodexLab(['usage', '--refresh', 'beta'], { home, env })).code).toBe(0);
  expect(await betaStatus()).toBe('ok');
  expect((await health.get('beta', Date.now())).status).toBe('ok');
});

it('a profile that needs a new sign-in, renamed: every surface calls it by its new name', async () => {
  const env = {
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
  };
  expireAccessTokens(fake, 'beta@example.com');
  scriptRefresh(fake, 'beta@example.com', 'refresh_token_invalidated');
  await runCodexLab(['usage', '--refresh'], { home, env });
  expect((await runCodexLab(['rename', 'beta', 'gamma'], { home })).code).toBe(0);
  const wanted = 'gamma needs a new sign-in (its refresh token was revoked).';

  // No router: list reads health.json, which kept the mark under the new name.
  const listed = JSON.parse((await runCodexLab(['list', '--json'], { home })).stdout) as Array<{
    name: string;
    statusMessage: string | null;
  }>;
  expect(listed.find((view) => view.name === 'gamma')?.statusMessage).toBe(wanted);

  // A router started since: its state says the same.
  const serve = await startServe(home, env);
  children.push(serve);
  const token = (await runCodexLab(['token'], { home })).stdout.trim();
  const state = (await (
    await fetch(`${serve.url}/lab/v1/state`, { headers: { authorization: `Bearer ${token}` } })
  ).json()) as { profiles: Array<{ name: string; statusMessage: string | null }> };
  expect(state.profiles.find((view) => view.name === 'gamma')?.statusMessage).toBe(wanted);
});

it('with a router running, a corrupt health.json never costs an account its sign-in (remove, rename onto the name, mend)', async () => {
  const env = {
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
  };
  const alphaAuth = await readFile(paths.profileAuth('alpha'), 'utf8');
  const serve = await startServe(home, env);
  try {
    await writeFile(paths.health, '{"broken', { mode: 0o600 });
    const removed = await runCodexLab(['remove', 'beta'], { home });
    expect(removed.stderr).toContain(paths.health);
    await runCodexLab(['rename', 'alpha', 'beta'], { home });
    // Before, the router's next load replayed the leftover "remove beta" and deleted
    // auth-profiles/beta, which held alpha's tokens by then, before the file was even mended.
    await runCodexLab(['list'], { home });
    await rm(paths.health);
    const list = await runCodexLab(['list', '--json'], { home });
    const listed = JSON.parse(list.stdout) as Array<{ name: string; email: string }>;
    const holder = listed.find((profile) => profile.email === 'alpha@example.com');
    expect(holder, list.stderr).toBeDefined();
    expect(await readFile(paths.profileAuth(holder!.name), 'utf8')).toBe(alphaAuth);
    expect(await journalRecords(paths)).toEqual([]);
  } finally {
    await stopServes([serve]);
  }
});
