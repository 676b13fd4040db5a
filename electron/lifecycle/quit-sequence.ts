/**
 * Quitting cleanly: `before-quit` is held until the service has stopped (health and quota writes,
 * in-flight token refreshes, the router closed), with a time limit so a stuck stop cannot keep the
 * app from exiting. Pure: the service's stop, the clock and the final quit are injected.
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
  clock: Clock;
  /** Quits for real (`app.quit`); the sequence lets the `before-quit` that follows through. */
  quit(): void;
  logger: Logger;
}

/** The `before-quit` handler and what it did. */
export interface QuitSequence {
  /** Attach to `app.on('before-quit')`. */
  onBeforeQuit(event: { preventDefault(): void }): void;
  /** Resolves with the outcome once the stop has ended (for tests and logs). */
  readonly finished: Promise<QuitOutcome>;
}

/** Default wait for the service to stop: long enough for a token refresh to land on disk. */
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
      void stopWithTimeout().then((outcome) => {
        if (outcome === 'timed-out') {
          options.logger.warn(
            { timeoutMs: options.timeoutMs },
            'the service did not stop in time; quitting anyway',
          );
        }
        phase = 'done';
        resolveFinished(outcome);
        options.quit();
      });
    },
  };
}
