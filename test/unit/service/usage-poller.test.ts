import { describe, expect, it } from 'vitest';
import { UsagePoller, readAfterResetMs } from '../../../core/service/quota-keeper.ts';
import { FakeClock } from '../priming/fake-clock.ts';

const start = Date.UTC(2026, 10, 24, 9, 0, 0);
const minute = 60_000;

/** Lets the poller's promise callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('UsagePoller: a read just after a window resets', () => {
  it('reads at the reset + 1 s, once, then waits for the next reset', async () => {
    const clock = new FakeClock(start);
    let resets = [start + 30 * minute];
    const polls: number[] = [];
    const afterReset: number[] = [];
    const poller = new UsagePoller({
      clock,
      periodMs: 7 * minute,
      pollOnce: async () => void polls.push(clock.now()),
      nextResetAt: () => resets.find((at) => at > clock.now()) ?? null,
      readAfterReset: async () => {
        afterReset.push(clock.now());
        // The read saw the new window: its reset is five hours on.
        resets = [start + 30 * minute + 5 * 60 * minute];
      },
    });
    poller.start(20_000);
    while (afterReset.length === 0) {
      expect(clock.fireNext()).toBeDefined();
      await settle();
    }
    expect(afterReset).toEqual([start + 30 * minute + readAfterResetMs]);
    // Periodic polls went on meanwhile, and none of them stood in for the reset read.
    expect(polls.length).toBeGreaterThanOrEqual(3);
    // The next reset timer is the new window's, not a loop on the one that passed.
    const due = clock.pending().map((timer) => timer.dueAt);
    expect(due).toContain(start + 30 * minute + 5 * 60 * minute + readAfterResetMs);
    poller.stop();
    expect(clock.pending()).toEqual([]);
  });

  it('arms nothing when no reset is ahead', async () => {
    const clock = new FakeClock(start);
    const poller = new UsagePoller({
      clock,
      periodMs: 7 * minute,
      pollOnce: async () => undefined,
      nextResetAt: () => null,
      readAfterReset: async () => {
        throw new Error('no reset to read after');
      },
    });
    poller.start(0);
    clock.fireNext();
    await settle();
    // Only the next periodic poll.
    expect(clock.pending()).toHaveLength(1);
    poller.stop();
  });
});
