/**
 * Damaged state files as the CLI says them (explorer report, defects 7 and 9): a corrupt file is
 * named once, by its name, and never overwritten; one rule for every command that saves what it
 * read.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome, runCodexLabMerged } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(): Promise<{ fake: FakeChatGpt; home: string; env: Record<string, string> }> {
  const fake = await startFakeChatGpt({ accounts: [{ email: 'alpha@example.com' }] });
  const home = await makeTempHome('codex-lab-state-files-');
  cleanups.push(async () => {
    await fake.close();
    await rm(home, { recursive: true, force: true });
  });
  await seedProfiles(fake, home, [{ name: 'alpha', email: 'alpha@example.com' }]);
  await mkdir(labPaths(home).stateDir, { recursive: true, mode: 0o700 });
  const env = {
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
  };
  return { fake, home, env };
}

/** The lines of `output` that name `file`. */
const naming = (output: string, file: string) =>
  output.split('\n').filter((line) => line.includes(file));

describe('a corrupt state file', () => {
  it('usage --refresh names a corrupt health.json once and leaves it as it is', async () => {
    const { home, env } = await setUp();
    const file = labPaths(home).health;
    await writeFile(file, '{"version":1,"prof');
    const run = await runCodexLabMerged(['usage', '--refresh'], { home, env });
    expect(naming(run.output, file), run.output).toHaveLength(1);
    expect(await readFile(file, 'utf8')).toBe('{"version":1,"prof');
  });

  it.each(['health', 'registry'] as const)(
    'usage --refresh while serve runs names a corrupt %s file once',
    async (which) => {
      const { home, env } = await setUp();
      const children: ServeChild[] = [await startServe(home, env)];
      cleanups.push(() => stopServes(children));
      const paths = labPaths(home);
      const file = which === 'health' ? paths.health : paths.registry;
      await writeFile(file, '{"version":1,"prof');
      // The router has seen the file change (its watch), as a user's next command finds it.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const run = await runCodexLabMerged(['usage', '--refresh'], { home, env });
      expect(naming(run.output, file), run.output).toHaveLength(1);
      expect(await readFile(file, 'utf8')).toBe('{"version":1,"prof');
    },
  );

  it.each([[['usage', '--refresh']], [['prime', 'alpha']]])(
    '%j with a corrupt quota.json: named once, left as it is, exit 1',
    async (args) => {
      const { home, env } = await setUp();
      const file = labPaths(home).quota;
      await writeFile(file, '{"version":1,"prof');
      const run = await runCodexLabMerged(args, { home, env });
      expect(naming(run.output, file), run.output).toHaveLength(1);
      expect(run.code, run.output).toBe(1);
      expect(await readFile(file, 'utf8')).toBe('{"version":1,"prof');
    },
  );

  it('under serve, a fresh read that finds the limit reached shows limited though quota.json is corrupt', async () => {
    const { fake, home, env } = await setUp();
    const children: ServeChild[] = [await startServe(home, env)];
    cleanups.push(() => stopServes(children));
    const file = labPaths(home).quota;
    await writeFile(file, '{"version":1,"prof');
    fake.account('alpha@example.com').primary!.usedPercent = 100;
    const run = await runCodexLabMerged(['usage', '--refresh'], { home, env });
    expect(naming(run.output, file), run.output).toHaveLength(1);
    expect(run.output, run.output).toMatch(/^alpha\s+limited/m);
    const list = await runCodexLabMerged(['list'], { home, env });
    expect(list.output, list.output).toMatch(/alpha\s.*limited/);
    const usage = await runCodexLabMerged(['usage'], { home, env });
    expect(usage.output, usage.output).toMatch(/^alpha\s+limited/m);
    expect(await readFile(file, 'utf8')).toBe('{"version":1,"prof');
  });
});
