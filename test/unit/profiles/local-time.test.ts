/** `priming.at`: one reading of "HH:MM", shared by the registry schema and the scheduler. */
import { describe, expect, it } from 'vitest';
import { nextLocalTime } from '../../../core/priming/scheduler.ts';
import { parseLocalTime, profileRecordSchema } from '../../../core/profiles/schema.ts';

const record = { name: 'alpha', createdAt: '2026-01-01T00:00:00.000Z' };

describe('parseLocalTime', () => {
  it('reads 00:00 to 23:59 with two digits each', () => {
    expect(parseLocalTime('00:00')).toEqual({ hours: 0, minutes: 0 });
    expect(parseLocalTime('07:05')).toEqual({ hours: 7, minutes: 5 });
    expect(parseLocalTime('23:59')).toEqual({ hours: 23, minutes: 59 });
    // Spaces around it, as earlier versions read it (a registry that worked keeps working).
    expect(parseLocalTime(' 07:05 ')).toEqual({ hours: 7, minutes: 5 });
  });

  it.each(['25:99', '24:00', '7:5', '07:5', 'noon', '', '07 :05'])('refuses %j', (text) => {
    expect(parseLocalTime(text)).toBeNull();
  });

  it('decides what the registry accepts and what the scheduler plans with alike', () => {
    for (const at of ['07:05', ' 07:05', '25:99', '7:5']) {
      const accepted = profileRecordSchema.safeParse({
        ...record,
        priming: { enabled: true, at },
      }).success;
      expect(accepted).toBe(nextLocalTime(Date.now(), at) !== null);
    }
    expect(profileRecordSchema.safeParse({ ...record, priming: { at: null } }).success).toBe(true);
  });
});
