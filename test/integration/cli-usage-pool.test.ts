import { mkdir, rm, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import type { QuotaFile } from '../../core/state/schema.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { makeAuth } from '../helpers/profile-auth.ts';

const hour = 3_600_000;
const day = 24 * hour;

/** A weekly window burned at `perHour` %/h over the last ten hours, one point per 5 minutes. */
function burned(now: number, used: number, perHour: number, resetsIn: number, fiveHour: number) {
  const history = [];
  for (let minutes = 600; minutes >= 0; minutes -= 5) {
    history.push({
      at: now - minutes * 60_000,
      primary: fiveHour,
      secondary: used - (perHour * minutes) / 60,
    });
  }
  return {
    latest: {
      observedAt: now,
      source: 'usage' as const,
      plan: 'plus',
      primary: { usedPercent: fiveHour, windowMinutes: 300, resetsAt: now + 2 * hour },
      secondary: { usedPercent: used, windowMinutes: 10080, resetsAt: now + resetsIn },
      credits: null,
      activeLimit: null,
      limitReached: false,
      others: [],
    },
    history,
  };
}

describe('codex-lab usage --pool and usage --json', () => {
  let home: string;
  let paths: LabPaths;
  let now: number;
  beforeEach(async () => {
    home = await makeTempHome();
    paths = labPaths(home);
    now = Date.now();
    const store = new ProfileStore({ paths });
    for (const name of ['work', 'team', 'spare']) {
      await store.saveSignIn({
        auth: makeAuth({ email: `${name}@example.com`, accountId: `acct-${name}` }),
        requestedName: name,
      });
    }
    const work = burned(now, 30, 2, 5 * day, 10);
    const team = burned(now, 80, 0.2, 3 * day, 100);
    const quota: QuotaFile = {
      version: 1,
      profiles: {
        work: {
          ...work,
          latest: {
            ...work.latest,
            credits: { hasCredits: true, unlimited: false, balance: '12.50' },
            others: [
              {
                limitId: 'codex_bengalfox',
                limitName: 'GPT-5.3-Codex-Spark',
                primary: { usedPercent: 5, windowMinutes: 300, resetsAt: now + hour },
                secondary: null,
              },
            ],
          },
        },
        team,
      },
    };
    await mkdir(paths.stateDir, { recursive: true });
    await writeFile(paths.quota, JSON.stringify(quota));
    await writeFile(
      paths.health,
      JSON.stringify({
        version: 1,
        profiles: {
          team: {
            status: 'limited',
            unavailableUntil: now + 2 * hour,
            code: 'usage_limit_reached',
            message: 'The usage limit has been reached',
            updatedAt: now,
          },
          spare: {
            status: 'auth_error',
            unavailableUntil: null,
            code: 'refresh_token_reused',
            message: 'Sign in again.',
            updatedAt: now,
          },
        },
      }),
    );
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('usage --pool --json: headroom, next free time, who a new session gets, the weekly forecast', async () => {
    const run = await runCodexLab(['usage', '--pool', '--json'], { home });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const pool = JSON.parse(run.stdout);
    expect(pool).toMatchObject({
      counted: 2,
      eligible: ['work'],
      needsSignIn: ['spare'],
      // work 30 % used (tightest) → 70; team limited → 0; mean of two.
      headroomPercent: 35,
      nextFree: { profile: 'team' },
      next: { profile: 'work', route: 'best' },
      forecast: { outlook: 'runs_out' },
    });
    expect(Date.parse(pool.nextFree.at)).toBeGreaterThan(now + 2 * hour - 60_000);
    // 70 + 20 = 90 % left at 2 + 0.2 = 2.2 %/h: about 41 hours, before the first reset (3 days).
    expect(pool.forecast.percentPerHour).toBeCloseTo(2.2, 1);
    const runsOutIn = Date.parse(pool.forecast.runsOutAt) - now;
    expect(runsOutIn / hour).toBeCloseTo(90 / 2.2, 0);
  });

  it('usage --pool in words, and the same summary as the footer of list', async () => {
    const run = await runCodexLab(['usage', '--pool'], { home });
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe('Pool 35% left · 1 of 3 ready');
    expect(lines[1]).toMatch(/^New sessions → work: best: 70% left in its tightest window/);
    expect(lines).toContainEqual(expect.stringMatching(/^Next free: team at \d\d:\d\d$/));
    expect(lines).toContainEqual(
      expect.stringMatching(/^This week: at this week's pace the pool runs out \w{3} \d\d:\d\d$/),
    );
    // On the command line it says the command that mends it.
    expect(lines).toContain('Needs sign-in: spare (codex-lab login spare)');
    // A profile named beside --pool is not ignored without a word.
    const named = await runCodexLab(['usage', '--pool', 'work'], { home });
    expect(named.code).toBe(2);
    expect(named.stderr).toBe(
      'codex-lab: usage --pool shows the whole pool: leave out "work", or drop --pool to see that profile alone.\n',
    );

    const list = await runCodexLab(['list'], { home });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(run.stdout.trim());
  });

  it('usage --json carries forecast, credits and extra limit families; absent (not zero) when unknown', async () => {
    const run = await runCodexLab(['usage', '--json'], { home });
    expect(run.code).toBe(0);
    const [work, team, spare] = JSON.parse(run.stdout);
    expect(work).toMatchObject({
      name: 'work',
      forecast: { outlook: 'runs_out', percentPerHour: 2 },
      credits: { hasCredits: true, unlimited: false, balance: '12.50' },
      limits: [
        {
          id: 'codex_bengalfox',
          name: 'GPT-5.3-Codex-Spark',
          primary: { usedPercent: 5, windowMinutes: 300 },
          secondary: null,
        },
      ],
    });
    // 70 % left at 2 %/h = 35 h, before the reset in 5 days.
    expect((Date.parse(work.forecast.runsOutAt) - now) / hour).toBeCloseTo(35, 0);
    // 20 % left at 0.2 %/h = 100 h, after the reset in 3 days.
    expect(team.forecast).toMatchObject({ outlook: 'lasts' });
    expect('credits' in team).toBe(false);
    expect('limits' in team).toBe(false);
    expect(spare.forecast).toBeNull();
    expect('credits' in spare).toBe(false);

    const human = await runCodexLab(['usage'], { home });
    // The WEEKLY PACE column says the pace without repeating "weekly pace" on every row.
    expect(human.stdout).toMatch(/^PROFILE\s.*\sWEEKLY PACE$/m);
    expect(human.stdout).toMatch(
      /work\s+not checked yet\s.*\s\d+\.\d%\/h: runs out \w{3} \d\d:\d\d$/m,
    );
    expect(human.stdout).toMatch(/team\s+limited, back in .*\s\d+\.\d%\/h: fine$/m);
    expect(human.stdout).not.toContain('weekly pace');
    const wide = await runCodexLab(['usage', '--wide'], { home });
    expect(wide.stdout).toMatch(
      /work\s+not checked yet\s.*\s\d+\.\d%\/h: runs out \w{3} \d\d:\d\d, before the reset\s/,
    );
    expect(wide.stdout).toMatch(/team\s+limited, back in .*\s\d+\.\d%\/h: fine until the reset\s/);
    expect(human.stdout).toContain('work: credits balance 12.50');
    expect(human.stdout).toMatch(/work: GPT-5.3-Codex-Spark limit: 5-hour 95% left/);
  });
});
