/**
 * The effects the core takes from outside: time and logging. HTTP clients, the file-system root
 * and the keyring are passed to the modules that need them.
 */
import type { ActivityKind } from './view-types.ts';

/** Cancels a scheduled callback. */
export type Cancel = () => void;

/** Injected time, so schedulers and backoff are tested with a fake clock. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `callback` after `delayMs`; returns a function that cancels it. */
  setTimeout(callback: () => void, delayMs: number): Cancel;
}

/** The longest delay Node's timers hold; a longer one fires after 1 ms. */
const longestTimerMs = 2 ** 31 - 1;

/**
 * The real clock. Timers are unref'd so they never keep a CLI process alive. A delay longer than
 * Node's timers hold (about 24.8 days: a window that resets a month ahead, or a clock far behind
 * the server's) is waited out in steps; given to Node whole, it fired at once, and a scheduler
 * that re-armed for the same moment spun.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, delayMs) {
    let timer: NodeJS.Timeout;
    const arm = (remaining: number): void => {
      const step = Math.min(remaining, longestTimerMs);
      timer = setTimeout(step < remaining ? () => arm(remaining - step) : callback, step);
      timer.unref?.();
    };
    arm(delayMs);
    return () => clearTimeout(timer);
  },
};

/**
 * Resolves when `work` settles (either way), `ms` has passed on `clock`, or `signal` aborts,
 * whichever comes first: a bounded wait that a second Ctrl-C can end (a stopping router's drain).
 */
export function settledWithin(
  clock: Clock,
  work: Promise<unknown>,
  ms: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted === true) return resolve();
    const cancel = clock.setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    void work.then(done, done);
    function done(): void {
      cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * Work started in the background that someone must wait for before going (a stop, an exit):
 * `track` registers a promise until it settles, `settled` waits for all of them, including any
 * registered while it waits.
 */
export class PendingWork {
  readonly #pending = new Set<Promise<unknown>>();

  /** Registers `work` until it settles; returns it unchanged. */
  track<T>(work: Promise<T>): Promise<T> {
    const tracked = work.then(
      () => undefined,
      () => undefined,
    );
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
    return work;
  }

  /** How many tracked pieces of work are running now. */
  get size(): number {
    return this.#pending.size;
  }

  /** Resolves once every piece tracked so far, and any tracked meanwhile, has settled. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }
}

/** A structured logger (a pino subset). Never pass tokens in fields or messages. */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
  child(bindings: object): Logger;
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/**
 * Where the router and the service record what they did (the activity log). The service's
 * `ActivityLog` implements it; lower layers take this port so they never import the service.
 */
export interface ActivityRecorder {
  add(kind: ActivityKind, profile: string | null, message: string): unknown;
}

/** Milliseconds in a second, for readable durations such as `30 * second`. */
export const second = 1000;
/** Milliseconds in a minute. */
export const minute = 60 * second;
/** Milliseconds in an hour. */
export const hour = 60 * minute;
/** Milliseconds in a day. */
export const day = 24 * hour;
