/**
 * Quitting cleanly: `before-quit` is held until the service has stopped (health and quota writes,
 * the router closed), with a time limit so a stuck stop cannot keep the app from exiting, and then
 * until the token refreshes in flight have put their rotated tokens on disk, with none: a refresh
 * cut short there loses the account's only valid refresh token, and it ends within its own
 * deadlines (the issuer's answer, the keychain's) anyway. Pure: the service's stop, the critical
 * work, the clock and the final quit are injected.
 */
import type { Clock, Logger } from '../../core/ports.ts';

/** How a stop ended. */
export type QuitOutcome = 'stopped' | 'timed-out' | 'failed';

/** What the quit sequence needs. */
export interface QuitSequenceOptions {
  /** Stops the service; resolves when its writes are on disk. */
  stop(): Promise<void>;
  /** Runs first, synchronously (e.g. remove the tray icon so the app looks gone at once). */
  beforeStop?(): void;
  /** The longest wait for `stop`. */
  timeoutMs: number;
  /**
   * Work the quit waits for with no time limit, after `stop` ended or timed out (the core's
   * `criticalWorkSettled`: refreshes between spending a token and writing the new one).
   */
  criticalWork?(): Promise<void>;
  clock: Clock;
  /** Quits for real (`app.quit`); the sequence lets the `before-quit` that follows through. */
  quit(): void;
  logger: Logger;
}

/** The `before-quit` handler and what it did. */
export interface QuitSequence {
  /** Attach to `app.on('before-quit')`. */
  onBeforeQuit(event: { preventDefault(): void }): void;
  /** Resolves with the outcome once the stop and the critical work have ended (tests, logs). */
  readonly finished: Promise<QuitOutcome>;
}

/**
 * Default wait for the service to stop (the router, health and quota writes); token refreshes in
 * flight are waited for apart, with no limit (`criticalWork`).
 */
export const defaultQuitTimeoutMs = 10_000;

/** Builds the quit sequence. */
export function createQuitSequence(options: QuitSequenceOptions): QuitSequence {
  let phase: 'running' | 'stopping' | 'done' = 'running';
  let resolveFinished: (outcome: QuitOutcome) => void = () => undefined;
  const finished = new Promise<QuitOutcome>((resolve) => {
    resolveFinished = resolve;
  });

  const stopWithTimeout = async (): Promise<QuitOutcome> => {
    let cancelTimer = (): void => undefined;
    const timeout = new Promise<QuitOutcome>((resolve) => {
      cancelTimer = options.clock.setTimeout(() => resolve('timed-out'), options.timeoutMs);
    });
    const stopped = options.stop().then(
      () => 'stopped' as const,
      (error: unknown) => {
        options.logger.error({ err: error }, 'the service did not stop cleanly');
        return 'failed' as const;
      },
    );
    try {
      return await Promise.race([stopped, timeout]);
    } finally {
      cancelTimer();
    }
  };

  return {
    finished,
    onBeforeQuit(event) {
      // Once stopped, the next before-quit (ours) passes through and the app exits.
      if (phase === 'done') return;
      event.preventDefault();
      if (phase === 'stopping') return;
      phase = 'stopping';
      try {
        options.beforeStop?.();
      } catch (error) {
        options.logger.error({ err: error }, 'clean-up before quitting failed');
      }
      void stopWithTimeout().then(async (outcome) => {
        if (outcome === 'timed-out') {
          options.logger.warn(
            { timeoutMs: options.timeoutMs },
            'the service did not stop in time; quitting anyway',
          );
        }
        await options.criticalWork?.().catch((error: unknown) => {
          options.logger.error({ err: error }, 'waiting for token refreshes failed');
        });
        phase = 'done';
        resolveFinished(outcome);
        options.quit();
      });
    },
  };
}
