/**
 * A per-model family's limit mark kept in `state/health.json` is what the CLI shows too: `usage`
 * (and `usage --json`) read it from the file, with its reset, while no router runs.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { afterEach, expect, it } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import type { ProfileView } from '../../core/service/contract.ts';
import { startFakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A home with alpha signed in and a health.json holding two family marks for it: `codex_spark`
 * limited for two hours, and `codex_other` lifted (kept lapsed, never shown).
 */
async function homeWithFamilyMarks(): Promise<{ home: string; until: number }> {
  const fake = await startFakeChatGpt({ accounts: [{ email: 'alpha@example.com' }] });
  const home = await makeTempHome('codex-lab-family-marks-');
  cleanups.push(async () => {
    await fake.close();
    await rm(home, { recursive: true, force: true });
  });
  await seedProfiles(fake, home, [{ name: 'alpha', email: 'alpha@example.com' }]);
  const paths = labPaths(home);
  await mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
  const now = Date.now();
  const until = now + 2 * 3_600_000;
  await writeFile(
    paths.health,
    JSON.stringify({
      version: 1,
      profiles: {},
      families: {
        alpha: {
          codex_spark: { until, markedAt: now - 1000, models: ['gpt-5.3-codex-spark'] },
          codex_other: { until: now - 500, markedAt: now - 500, models: [] },
        },
      },
    }),
  );
  return { home, until };
}

it('usage shows a family limit marked in health.json until its reset', async () => {
  const { home, until } = await homeWithFamilyMarks();
  const json = await runCodexLab(['usage', '--json'], { home });
  expect(json.code, json.stderr).toBe(0);
  const [alpha] = JSON.parse(json.stdout) as ProfileView[];
  expect(alpha?.limits).toEqual([
    {
      id: 'codex_spark',
      name: null,
      primary: null,
      secondary: null,
      limitedUntil: new Date(until).toISOString(),
    },
  ]);
  // The main status is the account's own: only the family is limited.
  expect(alpha?.status).not.toBe('limited');
  const text = await runCodexLab(['usage'], { home });
  expect(text.stdout).toMatch(/alpha: codex_spark limit: .*; limited, back in 1h 59m/);
});

it('list shows a family limit marked in health.json in the words usage uses', async () => {
  const { home } = await homeWithFamilyMarks();
  const usage = await runCodexLab(['usage', '--wide'], { home });
  const list = await runCodexLab(['list', '--wide'], { home });
  expect(list.code, list.stderr).toBe(0);
  const line = usage.stdout.split('\n').find((text) => text.includes('codex_spark limit'));
  expect(line).toMatch(/^alpha: codex_spark limit: .*; limited, back in 1h 59m/);
  expect(list.stdout.split('\n')).toContain(line);
  // A lifted mark is not shown.
  expect(list.stdout).not.toContain('codex_other');
});
