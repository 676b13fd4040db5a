/**
 * `CODEX_LAB_REFRESH_WAIT_MS` is one setting for every process: a command without a router waits
 * for a token refresh as long as `serve` does, not always the token manager's 30 s.
 */
import { rm } from 'node:fs/promises';
import { afterEach, expect, it } from 'vitest';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { holdTokenAnswers, setAccessTokenLifetime } from '../fakes/fake-issuer.ts';
import { makeTempHome, runCodexLab, saidToUser } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';

let fake: FakeChatGpt | undefined;
let home: string | undefined;
afterEach(async () => {
  await fake?.close();
  if (home) await rm(home, { recursive: true, force: true });
  fake = undefined;
  home = undefined;
});

/** The wait set here; the issuer answers well after it, well within the default 30 s. */
const refreshWaitMs = 500;
const issuerMs = 4_000;

it('usage --refresh without a router stops waiting for a token refresh at CODEX_LAB_REFRESH_WAIT_MS', async () => {
  fake = await startFakeChatGpt({ accounts: [{ email: 'alpha@example.com' }] });
  // Seeded with an access token already expired: the read cannot go without a refresh.
  setAccessTokenLifetime(fake, -60);
  home = await makeTempHome('codex-lab-cli-refresh-wait-');
  await seedProfiles(fake, home, [{ name: 'alpha', email: 'alpha@example.com' }]);
  setAccessTokenLifetime(fake, 3600);
  const hold = holdTokenAnswers(fake);
  let answeredAt = Number.POSITIVE_INFINITY;
  void hold.arrived.then(() =>
    setTimeout(() => {
      answeredAt = Date.now();
      hold.release();
    }, issuerMs),
  );
  const run = await runCodexLab(['usage', '--refresh', 'alpha'], {
    home,
    env: {
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
      CODEX_LAB_REFRESH_WAIT_MS: String(refreshWaitMs),
    },
  });
  // The read gave up on the refresh after the wait set, not once the issuer answered: the
  // refresh is said to be slow, and the command fails.
  expect(run.code, run.stderr).toBe(1);
  expect(saidToUser(run.stderr).join('\n')).toMatch(/issuer/i);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(answeredAt).toBeLessThan(Number.POSITIVE_INFINITY);
}, 30_000);
