/** A manual clock for router and quota tests: time moves only when the test says so. */
import type { Cancel, Clock } from '../../../core/ports.ts';

/** A `Clock` whose time and timers are driven by `advance`. */
export class FakeClock implements Clock {
  #now: number;
  #timers: { at: number; callback: () => void; cancelled: boolean }[] = [];

  constructor(start = Date.UTC(2026, 0, 5, 12, 0, 0)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, delayMs: number): Cancel {
    const timer = { at: this.#now + delayMs, callback, cancelled: false };
    this.#timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Pending (not cancelled, not fired) timers. */
  get pending(): number {
    return this.#timers.filter((timer) => !timer.cancelled).length;
  }

  /**
   * Time passes while the process does not run (a laptop asleep, SIGSTOP): timers due meanwhile
   * fire only at the end, late, each seeing the time of waking.
   */
  pause(ms: number): void {
    this.#now += ms;
    for (;;) {
      const due = this.#timers
        .filter((timer) => !timer.cancelled && timer.at <= this.#now)
        .sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.cancelled = true;
      due.callback();
    }
    this.#timers = this.#timers.filter((timer) => !timer.cancelled);
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#timers
        .filter((timer) => !timer.cancelled && timer.at <= target)
        .sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.cancelled = true;
      this.#now = due.at;
      due.callback();
    }
    this.#timers = this.#timers.filter((timer) => !timer.cancelled);
    this.#now = target;
  }
}
