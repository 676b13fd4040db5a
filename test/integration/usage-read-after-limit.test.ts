/**
 * A usage read and a 429's limit mark speak of the same limit: the newest reading wins, on every
 * surface at once (the service's state, the pool, routing). A read after a 429 that shows room
 * clears the mark; one that shows the limit spent keeps it (or, with no 429, makes it); a 429 for a
 * per-model family is contradicted only by that family's own figures.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import type { ProfileView } from '../../core/view-types.ts';
import { startFakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import {
  codexTurnBody,
  postToRouter,
  startTestRouter,
  type TestRouter,
} from '../helpers/lab-service.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';

let router: TestRouter | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await router?.close();
  router = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(): Promise<TestRouter> {
  router = await startTestRouter({
    homePrefix: 'codex-lab-limit-read-',
    accounts: [{ email: 'alpha@example.com' }, { email: 'beta@example.com' }],
    profiles: [
      ['alpha@example.com', 'alpha'],
      ['beta@example.com', 'beta'],
    ],
  });
  await router.service.setActive({ profile: 'alpha' });
  return router;
}

/** The running test router (started by `start`). */
function running(): TestRouter {
  if (!router) throw new Error('no router started');
  return router;
}

/** One turn of a new session: the profile that answered it. */
async function turn(session: string, model = 'gpt-5.5'): Promise<string | null> {
  const answer = await postToRouter(
    running().url,
    running().token,
    '/backend-api/codex/responses',
    codexTurnBody({ session, model }),
  );
  await answer.text();
  return answer.headers.get('x-codex-lab-profile');
}

async function alpha(): Promise<ProfileView> {
  const state = await running().service.getState();
  return state.profiles.find((profile) => profile.name === 'alpha')!;
}

async function refresh(): Promise<void> {
  expect(await running().service.refreshUsage({})).toMatchObject({ ok: true });
}

describe('a usage read against a limit mark', () => {
  it('clears a 429 mark at once when the read after it shows room', async () => {
    const { fake, service } = await start();
    fake.account('alpha@example.com').failures.push({ kind: 'usage_limit', resetsInSeconds: 3600 });
    expect(await turn('s1')).toBe('beta');
    expect((await alpha()).status).toBe('limited');

    await refresh();
    // Read right after, before any file is written: what `usage --refresh` shows.
    const view = await alpha();
    expect(view.status).toBe('ok');
    expect(view.unavailableUntil).toBeNull();
    expect(view.quota.primary?.usedPercent).toBeLessThan(100);
    const state = await service.getState();
    expect(state.pool.next?.profile).toBe('alpha');
    expect(await turn('s2')).toBe('alpha');
  });

  it('keeps the mark when the read after the 429 still shows the limit spent', async () => {
    const { fake } = await start();
    const account = fake.account('alpha@example.com');
    account.failures.push({ kind: 'usage_limit', resetsInSeconds: 3600 });
    expect(await turn('s1')).toBe('beta');
    account.primary!.usedPercent = 100;

    await refresh();
    const view = await alpha();
    expect(view.status).toBe('limited');
    expect(view.unavailableUntil).not.toBeNull();
    expect(await turn('s2')).toBe('beta');
  });

  it('marks a profile limited until the reset when a read shows a window used up', async () => {
    const { fake, paths } = await start();
    const account = fake.account('alpha@example.com');
    account.primary!.usedPercent = 100;
    const resetsAt = new Date(account.primary!.resetAt * 1000).toISOString();

    await refresh();
    const view = await alpha();
    expect(view.status).toBe('limited');
    expect(view.unavailableUntil).toBe(resetsAt);
    expect(await turn('s1')).toBe('beta');
    // Recorded as a mark, so what reads only the files (priming, a later `list`) agrees.
    await running().service.stop();
    const health = JSON.parse(await readFile(paths.health, 'utf8')) as {
      profiles: Record<string, { status: string; unavailableUntil: number | null }>;
    };
    expect(health.profiles['alpha']).toMatchObject({
      status: 'limited',
      unavailableUntil: Date.parse(resetsAt),
    });
  });

  it('keeps a family 429 against the main windows, and lifts it on the family’s own room', async () => {
    const { fake } = await start();
    const spark = 'gpt-5.3-codex-spark';
    const account = fake.account('alpha@example.com');
    account.failures.push({ kind: 'usage_limit', resetsInSeconds: 3600, limitId: 'codex_spark' });
    expect(await turn('spark-1', spark)).toBe('beta');

    // The main windows have room: they say nothing of the Spark limit.
    await refresh();
    expect((await alpha()).status).toBe('ok');
    expect(await turn('spark-2', spark)).toBe('beta');
    expect(await turn('main-1')).toBe('alpha');

    // The family's own figures, read after the 429, show room: the mark is lifted.
    account.additionalLimits = [
      {
        limitName: 'GPT-5.3-Codex-Spark',
        meteredFeature: 'codex_spark',
        primary: {
          usedPercent: 20,
          windowMinutes: 300,
          resetAt: fake.nowSeconds() + 3600,
          unstarted: false,
        },
      },
    ];
    await refresh();
    expect(await turn('spark-3', spark)).toBe('alpha');
  });
});

describe('codex-lab usage --refresh after a 429', () => {
  /** A home with alpha (active) and beta. */
  async function home2() {
    const fake = await startFakeChatGpt({
      accounts: [{ email: 'alpha@example.com' }, { email: 'beta@example.com' }],
    });
    const home = await makeTempHome('codex-lab-limit-read-cli-');
    cleanups.push(async () => {
      await fake.close();
      await rm(home, { recursive: true, force: true });
    });
    await seedProfiles(fake, home, [
      { name: 'alpha', email: 'alpha@example.com' },
      { name: 'beta', email: 'beta@example.com' },
    ]);
    const env = {
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    };
    expect((await runCodexLab(['use', 'alpha'], { home, env })).code).toBe(0);
    return { fake, home, env };
  }

  /** What `usage --refresh --json` says of alpha, and whether `usage --pool` counts it eligible. */
  async function refreshed(home: string, env: Record<string, string>) {
    const run = await runCodexLab(['usage', '--refresh', '--json'], { home, env });
    expect(run.code, run.stderr).toBe(0);
    const alpha = (JSON.parse(run.stdout) as ProfileView[]).find((view) => view.name === 'alpha');
    const pool = await runCodexLab(['usage', '--pool', '--json'], { home, env });
    const eligible = (JSON.parse(pool.stdout) as { eligible: string[] }).eligible;
    return { alpha, eligible };
  }

  it('with serve running: the account the read just found room on shows as usable', async () => {
    const { fake, home, env } = await home2();
    const children: ServeChild[] = [await startServe(home, env)];
    cleanups.push(() => stopServes(children));
    const token = (await readFile(labPaths(home).routerToken, 'utf8')).trim();
    fake.account('alpha@example.com').failures.push({ kind: 'usage_limit', resetsInSeconds: 3600 });
    const answer = await postToRouter(
      children[0]!.url,
      token,
      '/backend-api/codex/responses',
      codexTurnBody({ session: 'cli-1' }),
    );
    await answer.text();
    expect(answer.headers.get('x-codex-lab-profile')).toBe('beta');

    const { alpha, eligible } = await refreshed(home, env);
    expect(alpha?.quota.primary?.usedPercent).toBeLessThan(100);
    expect(alpha?.status).toBe('ok');
    expect(alpha?.unavailableUntil).toBeNull();
    expect(eligible).toContain('alpha');
  });

  it('with no router: the same answer from the files', async () => {
    const { home, env } = await home2();
    // The mark a router left a second ago, before it stopped.
    const now = Date.now();
    await mkdir(dirname(labPaths(home).health), { recursive: true });
    await writeFile(
      labPaths(home).health,
      JSON.stringify({
        version: 1,
        profiles: {
          alpha: {
            status: 'limited',
            unavailableUntil: now + 3_600_000,
            code: 'usage_limit_reached',
            message: 'The usage limit has been reached',
            updatedAt: now - 1000,
          },
        },
      }),
    );
    const { alpha, eligible } = await refreshed(home, env);
    expect(alpha?.status).toBe('ok');
    expect(alpha?.unavailableUntil).toBeNull();
    expect(eligible).toContain('alpha');
  });
});
