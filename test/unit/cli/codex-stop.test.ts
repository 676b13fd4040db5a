/**
 * `codexStop`: the first stop signal is Codex's to handle; a second one, or Codex still running
 * after the grace period, kills it with one sentence. Driven with a fake clock and child.
 */
import { describe, expect, it } from 'vitest';
import { codexStop } from '../../../core/cli/codex-stop.ts';
import type { Clock } from '../../../core/ports.ts';

/** A clock whose timers fire only when `advance` passes them. */
function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  let timers: { at: number; callback: () => void }[] = [];
  return {
    now: () => now,
    setTimeout(callback, delayMs) {
      const timer = { at: now + delayMs, callback };
      timers.push(timer);
      return () => {
        timers = timers.filter((entry) => entry !== timer);
      };
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((timer) => timer.at <= now);
      timers = timers.filter((timer) => timer.at > now);
      for (const timer of due) timer.callback();
    },
  };
}

function setUp(interactive = false) {
  const clock = fakeClock();
  const sent: string[] = [];
  const said: string[] = [];
  const stop = codexStop({
    child: { kill: (signal) => (sent.push(signal), true) },
    clock,
    graceMs: 10_000,
    interactive,
    say: (line) => said.push(line),
  });
  return { clock, sent, said, stop };
}

describe('codexStop', () => {
  it('passes the first SIGTERM on and kills Codex at a second one', () => {
    const { sent, said, stop } = setUp();
    stop.signalled('SIGTERM');
    expect(sent).toEqual(['SIGTERM']);
    expect(said).toEqual([]);
    stop.signalled('SIGTERM');
    expect(sent).toEqual(['SIGTERM', 'SIGKILL']);
    expect(said).toEqual([
      'codex-lab: Codex was still running at a second SIGTERM, so it was killed.',
    ]);
    expect(stop.stoppedBy).toBe('SIGTERM');
    // Later signals do nothing more.
    stop.signalled('SIGINT');
    expect(sent).toEqual(['SIGTERM', 'SIGKILL']);
    expect(said).toHaveLength(1);
  });

  it('kills Codex still running after the grace period', () => {
    const { clock, sent, said, stop } = setUp();
    stop.signalled('SIGINT');
    clock.advance(9_999);
    expect(sent).toEqual(['SIGINT']);
    clock.advance(1);
    expect(sent).toEqual(['SIGINT', 'SIGKILL']);
    expect(said).toEqual([
      'codex-lab: Codex was still running 10 s after SIGINT, so it was killed.',
    ]);
    expect(stop.stoppedBy).toBe('SIGINT');
  });

  it('leaves a Codex that exits within the grace period alone', () => {
    const { clock, sent, said, stop } = setUp();
    stop.signalled('SIGHUP');
    clock.advance(500);
    stop.exited();
    clock.advance(60_000);
    stop.signalled('SIGHUP');
    expect(sent).toEqual(['SIGHUP']);
    expect(said).toEqual([]);
  });

  it('in a terminal, does not pass Ctrl-C on, but a second one still kills Codex', () => {
    const { sent, said, stop } = setUp(true);
    stop.signalled('SIGINT');
    expect(sent).toEqual([]);
    stop.signalled('SIGTERM');
    expect(sent).toEqual(['SIGKILL']);
    expect(said).toEqual([
      'codex-lab: Codex was still running after SIGINT and SIGTERM, so it was killed.',
    ]);
    expect(stop.stoppedBy).toBe('SIGINT');
  });
});
