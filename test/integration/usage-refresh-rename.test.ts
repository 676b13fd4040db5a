/**
 * A usage read is the account's, not the name's: a profile renamed (by another command) while
 * `usage --refresh` is reading it gets the figures read under its new name.
 */
import { rm } from 'node:fs/promises';
import { afterEach, expect, it } from 'vitest';
import type { ProfileView } from '../../core/service/contract.ts';
import { startFakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('usage --refresh keeps a read under the name the profile was renamed to meanwhile', async () => {
  const fake = await startFakeChatGpt({ accounts: [{ email: 'alpha@example.com' }] });
  const home = await makeTempHome('codex-lab-refresh-rename-');
  cleanups.push(async () => {
    await fake.close();
    await rm(home, { recursive: true, force: true });
  });
  await seedProfiles(fake, home, [{ name: 'alpha', email: 'alpha@example.com' }]);
  const env = {
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
  };
  let release = () => {};
  fake.account('alpha@example.com').usageHold = new Promise((resolve) => (release = resolve));
  const usageReads = () =>
    fake.requests.filter((request) => request.path === '/backend-api/wham/usage').length;
  const refreshing = runCodexLab(['usage', '--refresh', '--json'], { home, env });
  const deadline = Date.now() + 20_000;
  while (usageReads() === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(usageReads()).toBe(1);
  // The read reached the upstream: the profile is renamed before its answer comes back.
  const rename = await runCodexLab(['rename', 'alpha', 'work'], { home, env });
  expect(rename.code, rename.stderr).toBe(0);
  release();
  const refreshed = await refreshing;
  expect(refreshed.code, refreshed.stderr).toBe(0);

  const after = await runCodexLab(['usage', '--json'], { home });
  expect(after.code, after.stderr).toBe(0);
  const views = JSON.parse(after.stdout) as ProfileView[];
  expect(views.map((view) => view.name)).toEqual(['work']);
  expect(views[0]?.quota.primary).not.toBeNull();
  expect(views[0]?.quota.updatedAt ?? null).not.toBeNull();
});
