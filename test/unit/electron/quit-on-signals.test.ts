import { EventEmitter } from 'node:events';
import { expect, it } from 'vitest';
import { silentLogger } from '../../../core/ports.ts';
import { quitOnSignals, quitSignals } from '../../../electron/lifecycle/quit-on-signals.ts';
import { createQuitSequence } from '../../../electron/lifecycle/quit-sequence.ts';
import { FakeClock } from '../router/fake-clock.ts';

it.each(quitSignals)(
  'three %s quit through the sequence, which ends only after the refresh in flight',
  async (signal) => {
    const signals = new EventEmitter();
    const events: string[] = [];
    let finishRefresh = (): void => undefined;
    const refresh = new Promise<void>((resolve) => (finishRefresh = resolve));
    const sequence = createQuitSequence({
      stop: async () => {
        events.push('stopped');
      },
      criticalWork: async () => {
        await refresh;
        events.push('tokens written');
      },
      timeoutMs: 10_000,
      clock: new FakeClock(),
      quit: () => events.push('exit'),
      logger: silentLogger,
    });
    // `app.quit()` emits `before-quit`; the app exits when nothing holds it.
    const appQuit = () => {
      const event = { prevented: false, preventDefault: () => (event.prevented = true) };
      sequence.onBeforeQuit(event);
      if (!event.prevented) events.push('exit');
    };
    quitOnSignals(signals, appQuit);
    // Listening at all is what keeps the signal's default action from ending the process.
    expect(signals.listenerCount(signal)).toBe(1);
    for (let i = 0; i < 3; i += 1) {
      signals.emit(signal);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(events).toEqual(['stopped']);
    finishRefresh();
    expect(await sequence.finished).toBe('stopped');
    expect(events).toEqual(['stopped', 'tokens written', 'exit']);
  },
);
