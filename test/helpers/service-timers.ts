/**
 * Drives a real `LabService` on an injected `FakeClock`: its timers (the priming timer among them)
 * fire when the test says, and the loopback I/O a fired timer starts is waited for in real
 * event-loop turns, bounded. A test that used to sleep through real poll periods fires them here.
 */
import type { LabService } from '../../core/service/lab-service.ts';
import type { FakeClock } from '../unit/priming/fake-clock.ts';

/** Waits real event-loop turns until `condition` holds or `ms` passed; says whether it held. */
export async function until(condition: () => boolean, ms = 1_500): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/**
 * Fires `clock`'s timers one by one until `condition` holds or `limit` timers fired; returns how
 * many fired. After each, it waits for the priming work the timer started (`primingSettled`), then
 * up to `trailMs` for what that work leaves behind (0 when `condition` reads nothing that trails).
 */
export async function fireUntil(
  clock: FakeClock,
  service: LabService | undefined,
  condition: () => boolean | Promise<boolean>,
  limit = 40,
  trailMs = 100,
): Promise<number> {
  let fired = 0;
  while (!(await condition()) && fired < limit) {
    await until(() => clock.pending().length > 0, 500);
    if (clock.fireNext()) fired += 1;
    // The fired timer's loopback I/O (a priming turn, a usage read) needs real time, more of it on
    // a loaded machine: wait for the priming work it started before firing the next timer, or the
    // limit runs out early.
    await service?.primingSettled();
    // What the work leaves behind (the activity it recorded) may trail it by a few event-loop turns.
    const deadline = Date.now() + trailMs;
    while (!(await condition()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  return fired;
}
