/**
 * A profile marked "needs sign-in" because its auth file went missing is not left that way once
 * the file is back (restored from a backup, moved back): the router's next read of its quota, or a
 * `usage --refresh`, shows its tokens work, and turns pinned to it are served again; `list` with no
 * router does not call it signed out while its file holds tokens.
 */
import { rename, rm } from 'node:fs/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { HealthStore } from '../../core/state/health-store.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { postTurn, startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';

let fake: FakeChatGpt;
let home: string;
let paths: LabPaths;
const children: ServeChild[] = [];

beforeEach(async () => {
  fake = await startFakeChatGpt();
  fake.addAccount({ email: 'alpha@example.com' });
  fake.addAccount({ email: 'beta@example.com' });
  home = await makeTempHome('codex-lab-restored-');
  paths = labPaths(home);
  await seedProfiles(fake, home, [
    { name: 'alpha', email: 'alpha@example.com' },
    { name: 'beta', email: 'beta@example.com' },
  ]);
});

afterEach(async () => {
  await stopServes(children);
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

/** beta's status as `list --json` reports it. */
async function betaStatus(): Promise<string> {
  const run = await runCodexLab(['list', '--json'], { home });
  const views = JSON.parse(run.stdout) as Array<{ name: string; status: string }>;
  return views.find((view) => view.name === 'beta')!.status;
}

it('a missing auth file put back: usage --refresh clears "needs sign-in" and pinned turns are served again', async () => {
  const env = {
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
  };
  const serve = await startServe(home, env);
  children.push(serve);
  const token = (await runCodexLab(['token'], { home })).stdout.trim();
  expect((await runCodexLab(['pin', 'beta', '--session', 's-beta'], { home })).code).toBe(0);

  const aside = `${paths.profileAuth('beta')}.moved`;
  await rename(paths.profileAuth('beta'), aside);
  const refused = await postTurn(serve, token, 's-beta');
  expect(refused.status).toBe(403);
  await refused.text();
  expect(await betaStatus()).toBe('auth_error');

  await rename(aside, paths.profileAuth('beta'));
  const refresh = await runCodexLab(['usage', '--refresh', 'beta'], { home, env });
  expect(refresh.code).toBe(0);
  expect(await betaStatus()).not.toBe('auth_error');
  const served = await postTurn(serve, token, 's-beta');
  expect(served.status).toBe(200);
  expect(served.headers.get('x-codex-lab-profile')).toBe('beta');
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
