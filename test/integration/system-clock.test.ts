/** The real clock's timers, on real time (a unit test may not sleep): a delay past what Node's timers hold (about 24.8 days). */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../core/ports.ts';

describe('systemClock.setTimeout', () => {
  it('waits out a delay longer than Node’s 32-bit timer instead of firing at once', async () => {
    // Node runs a timer over 2^31 - 1 ms after 1 ms: a reset a month ahead became a busy loop.
    let fired = 0;
    const cancel = systemClock.setTimeout(() => (fired += 1), 2 ** 31 + 60_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fired).toBe(0);
    cancel();
  });

  it('still fires a short delay, and a cancelled one never', async () => {
    let fired = 0;
    systemClock.setTimeout(() => (fired += 1), 5);
    const cancel = systemClock.setTimeout(() => (fired += 10), 5);
    cancel();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(fired).toBe(1);
  });
});
