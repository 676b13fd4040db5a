import { describe, expect, it } from 'vitest';
import { DecisionLog, type DecisionRecord } from '../../../core/router/decision-log.ts';

const at = Date.UTC(2026, 0, 5);
const record = (index: number): DecisionRecord => ({
  at: at + index,
  sessionId: `s${index}`,
  profile: 'a',
  route: 'best',
  detail: `decision ${index}`,
  excluded: [{ profile: 'b', reason: 'needs sign-in', code: 'auth_error', until: null } as never],
});

describe('DecisionLog', () => {
  it('keeps the newest decisions, newest first, as contract views', () => {
    const log = new DecisionLog(3);
    for (let index = 0; index < 5; index++) log.record(record(index));
    expect(log.size).toBe(3);
    const views = log.list();
    expect(views.map((view) => view.detail)).toEqual(['decision 4', 'decision 3', 'decision 2']);
    expect(views[0]).toEqual({
      at: new Date(at + 4).toISOString(),
      sessionId: 's4',
      profile: 'a',
      route: 'best',
      detail: 'decision 4',
      excluded: [{ profile: 'b', reason: 'needs sign-in' }],
    });
    expect(log.list(1)).toHaveLength(1);
  });

  it('tells listeners, survives a throwing one, and unsubscribes', () => {
    const log = new DecisionLog();
    const seen: string[] = [];
    log.onRecord(() => {
      throw new Error('broken listener');
    });
    const stop = log.onRecord((entry) => seen.push(entry.detail));
    log.record(record(1));
    stop();
    log.record(record(2));
    expect(seen).toEqual(['decision 1']);
    expect(log.size).toBe(2);
  });

  it('clears', () => {
    const log = new DecisionLog(2);
    log.record(record(1));
    log.clear();
    expect(log.list()).toEqual([]);
  });
});
