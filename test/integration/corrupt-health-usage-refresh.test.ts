/**
 * A `state/health.json` that does not parse fails a usage refresh as the file's own failure:
 * `corrupt_file`, naming the file, never `upstream_error` (the upstream answered).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { afterEach, expect, it } from 'vitest';
import { createCliContext } from '../../core/cli/context.ts';
import { localLabClient } from '../../core/cli/lab-client.ts';
import { labPaths } from '../../core/home/paths.ts';
import type { ProfileView } from '../../core/service/contract.ts';
import { startFakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome, runCodexLab, saidToUser } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A home with two profiles and a health.json cut short. */
async function brokenHealthHome() {
  const fake = await startFakeChatGpt({
    accounts: [{ email: 'alpha@example.com' }, { email: 'beta@example.com' }],
  });
  const home = await makeTempHome('codex-lab-corrupt-health-usage-');
  cleanups.push(async () => {
    await fake.close();
    await rm(home, { recursive: true, force: true });
  });
  await seedProfiles(fake, home, [
    { name: 'alpha', email: 'alpha@example.com' },
    { name: 'beta', email: 'beta@example.com' },
  ]);
  const paths = labPaths(home);
  await mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
  const broken = '{"version":1,"prof';
  await writeFile(paths.health, broken);
  const env = {
    CODEX_LAB_HOME: home,
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
  };
  return { fake, home, paths, broken, env };
}

it('the refresh fails with the file own code and sentence, naming health.json', async () => {
  const { paths, broken, env } = await brokenHealthHome();
  const context = createCliContext(env, new PassThrough(), new PassThrough());
  const lab = await localLabClient(context);
  const result = await lab.refreshUsage({ profile: null });
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.code).toBe('corrupt_file');
  expect(result.message).toContain(paths.health);
  // One file, said once, not once per account.
  expect(result.message.split(paths.health)).toHaveLength(2);
  expect(await readFile(paths.health, 'utf8')).toBe(broken);
});

it('usage --refresh --json shows the figures read, names health.json once and exits 1', async () => {
  const { home, paths, env } = await brokenHealthHome();
  const run = await runCodexLab(['usage', '--refresh', '--json'], { home, env });
  expect(run.code).toBe(1);
  const views = JSON.parse(run.stdout) as ProfileView[];
  expect(views.map((view) => view.name)).toEqual(['alpha', 'beta']);
  const said = saidToUser(run.stderr);
  expect(said.filter((line) => line.includes(paths.health))).toHaveLength(1);
  expect(run.stderr).not.toMatch(/Could not refresh the quota|alpha, beta:/);
  expect(run.stderr).not.toMatch(/\n\s+at /);
});
