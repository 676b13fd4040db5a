/**
 * The real clock, moved forward on demand: a service built on it sees time pass (a limit's reset,
 * a token's expiry) when the test says, instead of the test sleeping until it has. Its timers are
 * real, so it suits tests that wait on none of them.
 */
import { systemClock, type Clock } from '../../core/ports.ts';

/** A clock `ahead` ms ahead of the real one, and a way to move it further. */
export interface OffsetClock {
  clock: Clock;
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void;
}

/** A clock that reads the real time plus what `advance` added (0 at first). */
export function offsetClock(): OffsetClock {
  let ahead = 0;
  return {
    clock: {
      now: () => systemClock.now() + ahead,
      setTimeout: (callback, delayMs) => systemClock.setTimeout(callback, delayMs),
    },
    advance(ms) {
      ahead += ms;
    },
  };
}
