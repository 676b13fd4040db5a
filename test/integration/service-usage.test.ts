/**
 * LabService's usage refresh against the fake ChatGPT: a 401 costs exactly one refresh and one
 * retry, never a loop that spends refresh token after refresh token.
 */
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLabError } from '../../core/errors.ts';
import { labPaths } from '../../core/home/paths.ts';
import type { LabService } from '../../core/service/lab-service.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { expireAccessTokens, issuerStats } from '../fakes/fake-issuer.ts';
import { makeTempHome } from '../helpers/cli.ts';
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
    expect((error as Error).message).toContain('codex-lab login alpha');
    expect(issuerStats(fake).refreshToken - before).toBe(1);
    // The other account is untouched.
    expect((await service.fetchUsage('beta')).secondary).not.toBeNull();
  });
});
