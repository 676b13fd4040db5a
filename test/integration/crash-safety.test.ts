/**
 * Crash safety (issue 9, "Done when"): the real `codex-lab` commands — rename (legacy default
 * included), remove, use, pin, priming, prime, usage --refresh, login and re-login — with no router
 * and through a `codex-lab serve` under Codex-like traffic, killed with SIGKILL at random moments
 * (the router itself too, mid-traffic, right after a refresh reached the issuer), in several homes
 * at once. After every kill: every JSON file parses, every profile's refresh token is the issuer's
 * current one, no two profiles share one, no tokens sit in an unlisted folder
 * (`test/helpers/crash-trials.ts` says how a kill while the issuer's answer was on the wire is
 * told apart).
 *
 * `CODEX_LAB_CRASH_TRIALS` sets the count (default 100; `test/soak/crash-safety.mjs` runs 1,000),
 * `CODEX_LAB_CRASH_LANES` the homes run side by side (default 4).
 */
import { describe, expect, it } from 'vitest';
import { runCrashTrials } from '../helpers/crash-trials.ts';

const trials = Number(process.env['CODEX_LAB_CRASH_TRIALS'] ?? 100);
const lanes = Number(process.env['CODEX_LAB_CRASH_LANES'] ?? 4);

describe(`the real commands killed with SIGKILL at random moments (${trials} trials)`, () => {
  it(
    'never lose a sign-in',
    async () => {
      const { figures, problems } = await runCrashTrials({ trials, lanes });
      console.log(`crash-safety figures: ${JSON.stringify(figures)}`);
      expect(problems).toEqual([]);
      expect(figures.trials).toBeGreaterThanOrEqual(trials);
      expect(figures.lost).toBe(0);
      // Tokens were being refreshed all along (the kills had something to interrupt); about one
      // refresh per trial, fewer on a fast machine.
      expect(figures.refreshes).toBeGreaterThan(trials / 4);
      // Every command and both victims were exercised.
      expect(figures.victims['router'] ?? 0).toBeGreaterThan(0);
      expect(Object.keys(figures.commands).length).toBeGreaterThanOrEqual(10);
    },
    120_000 + trials * 5_000,
  );
});
