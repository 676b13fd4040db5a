/**
 * The activity log says when a usage read lifts a limit mark, as it says when the account was
 * limited: one line, worded once (`roomAgainText`), e.g. "alice has room again: its usage read
 * shows 30% of the 5-hour window used."
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { roomAgainText } from '../../../core/format.ts';
import type { QuotaSnapshot, QuotaWindow } from '../../../core/state/schema.ts';
import { inMemoryEngine } from '../../helpers/in-memory-engine.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';

const start = Date.UTC(2026, 10, 30, 12);
let time = start;
const clock = { now: () => time, setTimeout, clearTimeout } as never;

const window = (usedPercent: number, windowMinutes: number): QuotaWindow => ({
  usedPercent,
  windowMinutes,
  resetsAt: start + 3_600_000,
});

function usageRead(primary: QuotaWindow | null, secondary: QuotaWindow | null): QuotaSnapshot {
  return {
    observedAt: time,
    source: 'usage',
    plan: 'plus',
    primary,
    secondary,
    credits: null,
    activeLimit: null,
    limitReached: null,
    others: [],
  };
}

describe('a usage read that lifts a limit mark', () => {
  it('adds one activity line saying the account has room again, and why', async () => {
    const { engine, activity } = await inMemoryEngine({
      home: tempFolder('codex-lab-room-again-'),
      profileCount: 1,
      clock,
    });
    onTestFinished(() => engine.settled());
    engine.markLimited('profile-0', {
      resetsAt: start + 3_600_000,
      message: 'The usage limit has been reached.',
      limitId: null,
    });
    time += 60_000;
    engine.noteUsage('profile-0', usageRead(window(30, 300), window(12, 10_080)));
    expect(engine.health('profile-0').status).toBe('ok');
    const lines = activity.list().map((entry) => [entry.kind, entry.message]);
    expect(lines.at(-1)).toEqual([
      'limited',
      'profile-0 has room again: its usage read shows 30% of the 5-hour window used.',
    ]);

    // A read with nothing to lift says nothing.
    const count = activity.list().length;
    engine.noteUsage('profile-0', usageRead(window(31, 300), null));
    expect(activity.list()).toHaveLength(count);
  });
});

describe('roomAgainText', () => {
  it('names the fullest window the read shows', () => {
    expect(roomAgainText('alice', usageRead(window(20, 300), window(64.4, 10_080)))).toBe(
      'alice has room again: its usage read shows 64% of the weekly window used.',
    );
    expect(roomAgainText('bob', usageRead(null, window(5, 10_080)))).toBe(
      'bob has room again: its usage read shows 5% of the weekly window used.',
    );
  });
});
