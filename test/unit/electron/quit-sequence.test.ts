import { describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../../../core/ports.ts';
import { createQuitSequence } from '../../../electron/lifecycle/quit-sequence.ts';
import { FakeClock } from '../router/fake-clock.ts';

/** A `before-quit` event that records whether it was held. */
function quitEvent() {
  const event = { prevented: false, preventDefault: () => (event.prevented = true) };
  return event;
}

/** A service whose stop finishes only when the test says so. */
function controllableService() {
  const service = {
    stops: 0,
    finish: (): void => undefined,
    fail: (_error: Error): void => undefined,
    stop: () => {
      service.stops += 1;
      return new Promise<void>((resolve, reject) => {
        service.finish = resolve;
        service.fail = reject;
      });
    },
  };
  return service;
}

function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    ...silentLogger,
    warn: (_fields, message) => lines.push(`warn ${message}`),
    error: (_fields, message) => lines.push(`error ${message}`),
    child: () => logger,
  };
  return logger;
}

describe('createQuitSequence', () => {
  it('holds the quit until the service has stopped, then quits once and lets it through', async () => {
    const clock = new FakeClock();
    const service = controllableService();
    const events: string[] = [];
    const sequence = createQuitSequence({
      stop: () => service.stop(),
      beforeStop: () => events.push('tray removed'),
      timeoutMs: 10_000,
      clock,
      quit: () => events.push('quit'),
      logger: silentLogger,
    });
    const first = quitEvent();
    sequence.onBeforeQuit(first);
    expect(first.prevented).toBe(true);
    expect(events).toEqual(['tray removed']);
    // A second Quit click while stopping neither quits nor stops twice.
    const second = quitEvent();
    sequence.onBeforeQuit(second);
    expect(second.prevented).toBe(true);
    expect(service.stops).toBe(1);

    service.finish();
    expect(await sequence.finished).toBe('stopped');
    expect(events).toEqual(['tray removed', 'quit']);
    expect(clock.pending).toBe(0);
    // The quit the sequence itself asked for passes through.
    const last = quitEvent();
    sequence.onBeforeQuit(last);
    expect(last.prevented).toBe(false);
  });

  it('quits after the time limit when the stop hangs, and says so in the log', async () => {
    const clock = new FakeClock();
    const service = controllableService();
    const events: string[] = [];
    const sequence = createQuitSequence({
      stop: () => service.stop(),
      timeoutMs: 10_000,
      clock,
      quit: () => events.push('quit'),
      logger: recordingLogger(events),
    });
    sequence.onBeforeQuit(quitEvent());
    clock.advance(9_999);
    await Promise.resolve();
    expect(events).toEqual([]);
    clock.advance(1);
    expect(await sequence.finished).toBe('timed-out');
    expect(events).toEqual(['warn the service did not stop in time; quitting anyway', 'quit']);
  });

  it('waits past the time limit for a token refresh in flight, so its rotated token reaches disk before the exit', async () => {
    const clock = new FakeClock();
    const service = controllableService();
    const events: string[] = [];
    let settleRefresh = (): void => undefined;
    const refresh = new Promise<void>((resolve) => (settleRefresh = resolve));
    const sequence = createQuitSequence({
      stop: () => service.stop(),
      // A keychain write held by a locked keychain at logout: 10 s, then 1 s of grace.
      criticalWork: () => refresh.then(() => void events.push('refresh written')),
      timeoutMs: 10_000,
      clock,
      quit: () => events.push('quit'),
      logger: recordingLogger(events),
    });
    sequence.onBeforeQuit(quitEvent());
    clock.advance(10_000);
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(60_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['warn the service did not stop in time; quitting anyway']);
    // The quit clicked again meanwhile is held too.
    const again = quitEvent();
    sequence.onBeforeQuit(again);
    expect(again.prevented).toBe(true);

    settleRefresh();
    expect(await sequence.finished).toBe('timed-out');
    expect(events).toEqual([
      'warn the service did not stop in time; quitting anyway',
      'refresh written',
      'quit',
    ]);
  });

  it('quits when the stop fails, logging the failure', async () => {
    const clock = new FakeClock();
    const service = controllableService();
    const events: string[] = [];
    const sequence = createQuitSequence({
      stop: () => service.stop(),
      timeoutMs: 10_000,
      clock,
      quit: () => events.push('quit'),
      logger: recordingLogger(events),
    });
    sequence.onBeforeQuit(quitEvent());
    service.fail(new Error('disk full'));
    expect(await sequence.finished).toBe('failed');
    expect(events).toEqual(['error the service did not stop cleanly', 'quit']);
  });
});
