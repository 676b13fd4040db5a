/**
 * `codex-lab usage --refresh` (no router) against an issuer that takes seconds to answer a token
 * refresh. A refresh that is merely slow is no failure: nothing is said while the current token
 * still works (before: "Early refresh failed; using the current token" on every command), and a
 * refresh the command started lands on disk before it exits. A failure sentence reads as one
 * (before: "could not refresh the quota of The issuer has not answered …").
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import {
  holdTokenAnswers,
  refreshTokenIsValid,
  setAccessTokenLifetime,
} from '../fakes/fake-issuer.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';

let fake: FakeChatGpt | undefined;
let home: string | undefined;

afterEach(async () => {
  await fake?.close();
  if (home) await rm(home, { recursive: true, force: true });
  fake = undefined;
  home = undefined;
});

/** How long the issuer holds its answer (it has rotated the token already). */
const issuerMs = 3_000;

/** alpha signed in with access tokens that live `lifetimeSeconds`. */
async function world(lifetimeSeconds: number): Promise<{ fake: FakeChatGpt; home: string }> {
  fake = await startFakeChatGpt({ accounts: [{ email: 'alpha@example.com' }] });
  setAccessTokenLifetime(fake, lifetimeSeconds);
  home = await makeTempHome('codex-lab-slow-refresh-usage-');
  await seedProfiles(fake, home, [{ name: 'alpha', email: 'alpha@example.com' }]);
  // Refreshed tokens live an hour: only the seeded ones are short-lived.
  setAccessTokenLifetime(fake, 3600);
  return { fake, home };
}

async function refreshTokenOnDisk(home: string): Promise<string> {
  const auth = JSON.parse(
    await readFile(join(home, 'auth-profiles', 'alpha', 'auth.json'), 'utf8'),
  ) as { tokens: { refresh_token: string } };
  return auth.tokens.refresh_token;
}

describe('usage --refresh while the issuer is slow', () => {
  it('says nothing of a refresh still running, and exits only once its tokens are on disk', async () => {
    // Two minutes left: inside the five-minute margin, so the read sets off an early refresh.
    const { fake, home } = await world(120);
    const seeded = await refreshTokenOnDisk(home);
    const hold = holdTokenAnswers(fake);
    void hold.arrived.then(() => setTimeout(() => hold.release(), issuerMs));
    const run = await runCodexLab(['usage', '--refresh', 'alpha'], {
      home,
      env: { CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl, CODEX_LAB_AUTH_ISSUER: fake.issuerUrl },
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // The issuer rotated the token before it answered: had the command exited first, the file
    // would still hold the spent one.
    const now = await refreshTokenOnDisk(home);
    expect(now).not.toBe(seeded);
    expect(refreshTokenIsValid(fake, now)).toBe(true);
  }, 30_000);

  it('leads a failure that names its account in its own words with a sentence of its own', async () => {
    const { fake, home } = await world(3600);
    // "The usage endpoint answered 503 for alpha; …" names alpha itself: before, it came out as
    // "could not refresh the quota of The usage endpoint answered 503 for alpha".
    fake.account('alpha@example.com').usageFailure = 'unavailable';
    const run = await runCodexLab(['usage', '--refresh', 'alpha'], {
      home,
      env: { CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl, CODEX_LAB_AUTH_ISSUER: fake.issuerUrl },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'codex-lab: Could not refresh the quota. The usage endpoint answered 503 for alpha; try again later.\n',
    );
  }, 30_000);
});
