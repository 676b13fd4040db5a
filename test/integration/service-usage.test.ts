/**
 * LabService's usage refresh against the fake ChatGPT: a 401 costs exactly one refresh and one
 * retry, never a loop that spends refresh token after refresh token.
 */
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isLabError } from '../../core/errors.ts';
import { labPaths } from '../../core/home/paths.ts';
import type { LabService } from '../../core/service/lab-service.ts';
import { HealthStore } from '../../core/state/health-store.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { expireAccessTokens, issuerStats } from '../fakes/fake-issuer.ts';
import { makeTempHome } from '../helpers/cli.ts';
import { systemClock } from '../../core/ports.ts';
import { createTestLabService } from '../helpers/lab-service.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';

let fake: FakeChatGpt;
let home: string;
let service: LabService;

beforeEach(async () => {
  fake = await startFakeChatGpt({
    accounts: [{ email: 'alpha@example.com' }, { email: 'beta@example.com' }],
  });
  home = await makeTempHome('codex-lab-service-usage-');
  await seedProfiles(fake, home, [
    { name: 'alpha', email: 'alpha@example.com' },
    { name: 'beta', email: 'beta@example.com' },
  ]);
  service = createTestLabService(fake, labPaths(home));
});

afterEach(async () => {
  await service.stop();
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

describe('usage refresh', () => {
  it('refreshes an expired token once and then reads the numbers', async () => {
    expireAccessTokens(fake, 'alpha@example.com');
    const before = issuerStats(fake).refreshToken;
    const snapshot = await service.fetchUsage('alpha');
    expect(issuerStats(fake).refreshToken - before).toBe(1);
    expect(snapshot.secondary?.usedPercent).toBe(
      fake.account('alpha@example.com').secondary?.usedPercent,
    );
  });

  it('stops after one refresh when the upstream keeps refusing, and says to sign in again', async () => {
    fake.account('alpha@example.com').usageFailure = 'unauthorized';
    const before = issuerStats(fake).refreshToken;
    const error = await service.fetchUsage('alpha').catch((caught: unknown) => caught);
    expect(isLabError(error) && error.code).toBe('unauthorized');
    expect(isLabError(error) && error.fix).toEqual({ action: 'sign_in', profiles: ['alpha'] });
    expect(issuerStats(fake).refreshToken - before).toBe(1);
    // The other account is untouched.
    expect((await service.fetchUsage('beta')).secondary).not.toBeNull();
  });

  it('marks an account whose usage reads keep refusing fresh tokens as needing sign-in, as turns do', async () => {
    // Each read spends the single-use refresh token once; read after read, the account would
    // lose it every poll. Counted as a turn refused so is (once per pause: 5 s, then 20 s), the
    // third in a row says "sign in". Reads inside a pause do not count.
    await service.stop();
    let ahead = 0;
    const clock = {
      now: () => Date.now() + ahead,
      setTimeout: systemClock.setTimeout,
    };
    service = createTestLabService(fake, labPaths(home), { clock });
    fake.account('alpha@example.com').usageFailure = 'unauthorized';
    const refusedRead = async () => {
      const error = await service.fetchUsage('alpha').catch((caught: unknown) => caught);
      expect(isLabError(error) && error.code).toBe('unauthorized');
    };
    const status = async (name: string) =>
      (await service.getState()).profiles.find((profile) => profile.name === name)?.status;
    await refusedRead();
    // Back-to-back reads inside the pause: not counted.
    await refusedRead();
    await refusedRead();
    expect(await status('alpha')).not.toBe('auth_error');
    ahead += 6_000;
    await refusedRead();
    ahead += 21_000;
    await refusedRead();
    expect(await status('alpha')).toBe('auth_error');
    const alpha = (await service.getState()).profiles.find((profile) => profile.name === 'alpha');
    // What is wrong, with no command in it (the card offers "Sign in again"; the CLI adds its own).
    expect(alpha?.statusMessage).toBe(
      'The upstream rejected alpha 3 times in a row even with fresh tokens.',
    );
    expect(await status('beta')).not.toBe('auth_error');
  });

  it('reads the reset credits with the usage read’s headers and keeps them in the live state', async () => {
    const now = fake.nowSeconds();
    fake.account('alpha@example.com').resetCredits = [
      {
        id: 'rc-1',
        resetType: 'codex_rate_limits',
        status: 'available',
        grantedAt: now - 86400,
        expiresAt: now + 20 * 86400,
        title: 'Full reset (Weekly + 5 hr)',
      },
      {
        id: 'rc-2',
        resetType: 'codex_rate_limits',
        status: 'available',
        grantedAt: now - 3600,
        expiresAt: now + 5 * 86400,
        title: null,
      },
      {
        id: 'rc-3',
        resetType: 'codex_rate_limits',
        status: 'redeemed',
        grantedAt: now - 7200,
        expiresAt: now + 86400,
        title: null,
      },
    ];
    const snapshot = await service.fetchUsage('alpha');
    expect(snapshot.resetCredits).toEqual({
      available: 2,
      nextExpiresAt: (now + 5 * 86400) * 1000,
    });
    const asked = fake.requests.filter((request) => request.path.startsWith('/backend-api/wham/'));
    const usage = asked.find((request) => request.path === '/backend-api/wham/usage');
    const credits = asked.find(
      (request) => request.path === '/backend-api/wham/rate-limit-reset-credits',
    );
    expect(credits).toBeDefined();
    for (const header of ['authorization', 'chatgpt-account-id', 'originator', 'user-agent']) {
      expect(credits?.headers[header], header).toBe(usage?.headers[header]);
    }
    const view = (await service.getState()).profiles.find((profile) => profile.name === 'alpha');
    expect(view?.resetCredits).toEqual({
      available: 2,
      nextExpiresAt: new Date((now + 5 * 86400) * 1000).toISOString(),
    });
    // beta has none: absent, not zero.
    await service.fetchUsage('beta');
    const beta = (await service.getState()).profiles.find((profile) => profile.name === 'beta');
    expect(beta && 'resetCredits' in beta).toBe(false);
  });

  it('reads a 404 as "none" and a failed read as unknown, never failing the usage read', async () => {
    const alpha = fake.account('alpha@example.com');
    alpha.resetCredits = 'not_found';
    expect((await service.fetchUsage('alpha')).resetCredits).toBeNull();
    alpha.resetCredits = 'server_error';
    const snapshot = await service.fetchUsage('alpha');
    expect(snapshot.secondary).not.toBeNull();
    expect('resetCredits' in snapshot).toBe(false);
  });

  it('spends one refresh per read across both endpoints, and reports a refused sign-in', async () => {
    expireAccessTokens(fake, 'alpha@example.com');
    fake.account('alpha@example.com').resetCredits = 'unauthorized';
    const before = issuerStats(fake).refreshToken;
    const error = await service.fetchUsage('alpha').catch((caught: unknown) => caught);
    expect(isLabError(error) && error.code).toBe('unauthorized');
    expect(isLabError(error) && error.fix).toEqual({ action: 'sign_in', profiles: ['alpha'] });
    expect(issuerStats(fake).refreshToken - before).toBe(1);
  });
});

describe('the state a refresh answers with', () => {
  it('shows an account just read as working, with its numbers, before health.json says so', async () => {
    // The router marks the account working at once and writes health.json after: held here, so
    // the state asked right after the refresh (as usage --refresh asks it) meets the file unwritten.
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const markOk = HealthStore.prototype.markOk;
    const spy = vi.spyOn(HealthStore.prototype, 'markOk').mockImplementation(async function (
      this: HealthStore,
      ...args
    ) {
      await held;
      return markOk.apply(this, args);
    });
    try {
      expect((await service.refreshUsage({ profile: null })).ok).toBe(true);
      const views = (await service.getState()).profiles;
      expect(views.map((view) => [view.name, view.status, view.statusMessage])).toEqual([
        ['alpha', 'ok', null],
        ['beta', 'ok', null],
      ]);
      for (const view of views) expect(view.quota.updatedAt).not.toBeNull();
    } finally {
      release();
      spy.mockRestore();
    }
  });
});
