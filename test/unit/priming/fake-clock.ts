/**
 * A fake clock for priming tests: records every scheduled delay and fires timers only when the
 * test says so, so nothing sleeps.
 */
import type { Cancel, Clock } from '../../../core/ports.ts';

/** One scheduled callback. */
export interface FakeTimer {
  id: number;
  dueAt: number;
  delayMs: number;
  callback: () => void;
  cancelled: boolean;
}

/** A clock whose time moves only when the test moves it. */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  /** Every timer ever scheduled, in order (cancelled ones stay, marked). */
  readonly timers: FakeTimer[] = [];
  /** Called after every change of time (tests keep the fake ChatGPT's clock in step). */
  onChange: ((now: number) => void) | undefined;

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, delayMs: number): Cancel {
    const timer: FakeTimer = {
      id: this.#nextId++,
      dueAt: this.#now + delayMs,
      delayMs,
      callback,
      cancelled: false,
    };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Timers not yet fired nor cancelled, soonest first. */
  pending(): FakeTimer[] {
    return this.timers.filter((timer) => !timer.cancelled).sort((a, b) => a.dueAt - b.dueAt);
  }

  /** Moves time to `at` without firing anything. */
  set(at: number): void {
    this.#now = at;
    this.onChange?.(at);
  }

  /** Moves time forward by `ms` without firing anything. */
  advance(ms: number): void {
    this.set(this.#now + ms);
  }

  /**
   * The wall clock jumps by `ms` (a suspend, or the clock set forward or back) while pending
   * timers keep their remaining delay, as Node's timers do: they run on the monotonic clock.
   */
  jump(ms: number): void {
    for (const timer of this.pending()) timer.dueAt += ms;
    this.set(this.#now + ms);
  }

  /** Fires the soonest pending timer (moving time to it); returns it, or undefined when none. */
  fireNext(): FakeTimer | undefined {
    const timer = this.pending()[0];
    if (!timer) return undefined;
    timer.cancelled = true;
    if (timer.dueAt > this.#now) this.set(timer.dueAt);
    timer.callback();
    return timer;
  }
}
