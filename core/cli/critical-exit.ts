/**
 * How a command ends while a token refresh is in flight (docs/security.md, "Refresh tokens are
 * single-use"): it says once that it finishes the refresh first, waits until the rotated tokens
 * are on disk, and no SIGINT, SIGTERM or SIGHUP meanwhile ends it. One place for the sentence and
 * the wait, for the one-shot commands and for `serve`'s stop.
 */
import type { Writable } from 'node:stream';
import { criticalWorkPending, criticalWorkSettled } from '../home/critical.ts';
import { writeLine } from './context.ts';

/** What a command says when a token refresh must finish before it exits. */
export const finishingRefreshLine = 'codex-lab: finishing a token refresh before exiting…';

/**
 * The signals that ask a command to end. While one of ours listens, neither the signal's default
 * action nor signal-exit's hook (write-file-atomic's, which raises the signal again when it is the
 * only listener) ends the process: a refresh runs to its end, its lock held.
 */
export const stopSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** One of `stopSignals`. */
export type StopSignal = (typeof stopSignals)[number];

/** The exit code a command ended by `signal` reports (128 + the signal's number). */
export function signalExitCode(signal: StopSignal): number {
  return 128 + { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }[signal];
}

/** A command's wait for its token refreshes before it exits. */
export interface CriticalExit {
  /** Says once that a refresh is finished first (when one runs); resolves once all have settled. */
  settled(): Promise<void>;
  /**
   * For a later signal while a refresh runs (during that wait, or during a stop that waits for
   * it): says the line, twice at most in all (why nothing ended yet).
   */
  signalled(): void;
}

/** The wait before exiting, saying what it waits for on `stderr`. */
export function criticalExit(stderr: Writable): CriticalExit {
  let waiting = false;
  let said = 0;
  const say = () => {
    said += 1;
    writeLine(stderr, finishingRefreshLine);
  };
  return {
    async settled() {
      if (criticalWorkPending() === 0) return;
      waiting = true;
      if (said === 0) say();
      // The core's timers are unref'd: between a refresh's retries no socket may be open, and the
      // process must not run out of work and exit before the tokens are written.
      const keepAlive = setInterval(() => undefined, 60_000);
      try {
        await criticalWorkSettled();
      } finally {
        clearInterval(keepAlive);
        waiting = false;
      }
    },
    signalled() {
      if ((waiting || criticalWorkPending() > 0) && said < 2) say();
    },
  };
}
