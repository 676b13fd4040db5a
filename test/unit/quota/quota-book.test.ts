import { describe, expect, it } from 'vitest';
import { QuotaBook } from '../../../core/quota/quota-book.ts';
import { quotaFileSchema, type QuotaSnapshot } from '../../../core/state/schema.ts';
import { FakeClock } from '../router/fake-clock.ts';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

function snapshot(
  at: number,
  weekly: number | null,
  patch: Partial<QuotaSnapshot> = {},
): QuotaSnapshot {
  return {
    observedAt: at,
    source: 'headers',
    plan: null,
    primary: null,
    secondary:
      weekly === null
        ? null
        : { usedPercent: weekly, windowMinutes: 10080, resetsAt: at + 3 * day },
    credits: null,
    activeLimit: null,
    limitReached: null,
    others: [],
    ...patch,
  };
}

describe('QuotaBook.observe', () => {
  it('keeps the plan and credits a header snapshot lacks', () => {
    const clock = new FakeClock();
    const book = new QuotaBook({ clock });
    book.observe(
      'a',
      snapshot(clock.now(), 10, {
        source: 'usage',
        plan: 'team',
        credits: { hasCredits: true, unlimited: false, balance: '5' },
        limitReached: false,
      }),
    );
    const merged = book.observe('a', snapshot(clock.now() + 1000, 12));
    expect(merged).toMatchObject({
      plan: 'team',
      credits: { balance: '5' },
      source: 'headers',
      secondary: { usedPercent: 12 },
      limitReached: null,
    });
    expect(book.latest('a')).toBe(merged);
    expect(book.latest('b')).toBeNull();
  });

  it('keeps the windows when a snapshot carries only credits', () => {
    const clock = new FakeClock();
    const book = new QuotaBook({ clock });
    book.observe('a', snapshot(clock.now(), 10));
    const merged = book.observe(
      'a',
      snapshot(clock.now() + 1, null, {
        credits: { hasCredits: false, unlimited: false, balance: null },
      }),
    );
    expect(merged.secondary?.usedPercent).toBe(10);
  });

  it('ignores a snapshot older than the latest', () => {
    const clock = new FakeClock();
    const book = new QuotaBook({ clock });
    book.observe('a', snapshot(clock.now(), 30));
    book.observe('a', snapshot(clock.now() - 1, 20));
    expect(book.latest('a')?.secondary?.usedPercent).toBe(30);
  });

  it('takes new figures again at once when the clock stepped back past the latest', () => {
    // The figures were read while the clock ran two hours ahead; NTP then corrected it.
    const clock = new FakeClock();
    const book = new QuotaBook({ clock });
    book.observe('a', snapshot(clock.now() + 2 * hour, 30));
    book.observe('a', snapshot(clock.now(), 35));
    expect(book.latest('a')?.secondary?.usedPercent).toBe(35);
    // The chart keeps no point from the future, and out-of-order answers still lose.
    expect(book.history('a').map((point) => point.at)).toEqual([clock.now()]);
    book.observe('a', snapshot(clock.now() - 1, 20));
    expect(book.latest('a')?.secondary?.usedPercent).toBe(35);
  });

  it('keeps one history point per 5 minutes and at most 7 days', () => {
    const clock = new FakeClock();
    const book = new QuotaBook({ clock });
    const start = clock.now();
    for (let tick = 0; tick < 10 * 24 * 60; tick++) {
      // One observation a minute for ten days.
      if (tick > 0) clock.advance(minute);
      book.observe('a', snapshot(start + tick * minute, (tick / 60) % 100));
    }
    const history = book.history('a');
    expect(history.length).toBeLessThanOrEqual(7 * 24 * 12 + 1);
    expect(history.length).toBeGreaterThan(7 * 24 * 12 - 2);
    expect((history[0] as { at: number }).at).toBeGreaterThanOrEqual(start + 3 * day - 5 * minute);
    const last = history.at(-1);
    expect(last?.secondary).toBe(book.latest('a')?.secondary?.usedPercent);
  });
});

describe('QuotaBook files', () => {
  it('round-trips through state/quota.json and drops expired history on load', () => {
    const clock = new FakeClock();
    const book = new QuotaBook({ clock });
    book.observe('a', snapshot(clock.now() - 6 * day, 5));
    book.observe('a', snapshot(clock.now(), 10, { plan: 'pro' }));
    const file = quotaFileSchema.parse(JSON.parse(JSON.stringify(book.toFile())));
    expect(file.profiles.a?.history).toHaveLength(2);
    // Two days later, the older point is past the 7-day horizon.
    clock.advance(2 * day);
    const loaded = new QuotaBook({ clock });
    loaded.fromFile(file);
    expect(loaded.latest('a')).toEqual(book.latest('a'));
    expect(loaded.history('a')).toHaveLength(1);
  });

  it('debounces persist into one write and flushes on demand', async () => {
    const clock = new FakeClock();
    const writes: unknown[] = [];
    const book = new QuotaBook({
      clock,
      path: '/state/quota.json',
      persistDelayMs: 5000,
      write: async (_path, value) => {
        writes.push(value);
      },
    });
    book.observe('a', snapshot(clock.now(), 10));
    book.persist();
    book.persist();
    book.persist();
    expect(clock.pending).toBe(1);
    clock.advance(4999);
    expect(writes).toHaveLength(0);
    clock.advance(1);
    await book.flush();
    // The timer's write plus the explicit flush.
    expect(writes).toHaveLength(2);
    book.persist();
    await book.flush();
    expect(clock.pending).toBe(0);
    expect(writes).toHaveLength(3);
  });

  it('logs and survives a failed write', async () => {
    const clock = new FakeClock();
    const warnings: object[] = [];
    const logger = {
      debug() {},
      info() {},
      warn(fields: object) {
        warnings.push(fields);
      },
      error() {},
      child() {
        return logger;
      },
    };
    const book = new QuotaBook({
      clock,
      path: '/nowhere/quota.json',
      logger,
      write: async () => {
        throw new Error('disk full');
      },
    });
    await book.flush();
    expect(warnings).toEqual([{ path: '/nowhere/quota.json', error: 'disk full' }]);
  });

  it('moves quota on rename and drops it on removal', () => {
    const book = new QuotaBook({ clock: new FakeClock() });
    book.observe('a', snapshot(1, 10));
    book.forget('a', 'b');
    expect(book.latest('a')).toBeNull();
    expect(book.latest('b')?.secondary?.usedPercent).toBe(10);
    book.forget('b');
    expect(book.profiles()).toEqual([]);
  });
});

describe('QuotaBook.forecast', () => {
  it('projects the weekly window linearly from the current window’s history', () => {
    const clock = new FakeClock();
    const book = new QuotaBook({ clock });
    const start = clock.now();
    const resetsAt = start + 5 * day;
    // 2 % per hour for 10 hours: 20 % → 40 %.
    for (let hourIndex = 0; hourIndex <= 10; hourIndex++) {
      const at = start + hourIndex * hour;
      book.observe('a', {
        ...snapshot(at, 20 + 2 * hourIndex),
        secondary: { usedPercent: 20 + 2 * hourIndex, windowMinutes: 10080, resetsAt },
      });
    }
    const now = start + 10 * hour;
    const forecast = book.forecast('a', now);
    expect(forecast?.percentPerHour).toBeCloseTo(2);
    expect(forecast?.runsOutAt).toBe(now + 30 * hour);
    expect(forecast?.resetsAt).toBe(resetsAt);
  });

  it('says it will not run out before the reset, or when nothing is burning', () => {
    const clock = new FakeClock();
    const book = new QuotaBook({ clock });
    const start = clock.now();
    const resetsAt = start + day;
    for (const [offset, used] of [
      [0, 10],
      [hour, 11],
    ] as const) {
      book.observe('slow', {
        ...snapshot(start + offset, used),
        secondary: { usedPercent: used, windowMinutes: 10080, resetsAt },
      });
      book.observe('idle', {
        ...snapshot(start + offset, 10),
        secondary: { usedPercent: 10, windowMinutes: 10080, resetsAt },
      });
    }
    expect(book.forecast('slow', start + hour)?.runsOutAt).toBeNull();
    expect(book.forecast('idle', start + hour)).toMatchObject({
      runsOutAt: null,
      percentPerHour: 0,
    });
  });

  it('is null when unknown: no profile, no window, or too little history', () => {
    const clock = new FakeClock();
    const book = new QuotaBook({ clock });
    expect(book.forecast('nobody', clock.now())).toBeNull();
    book.observe(
      'a',
      snapshot(clock.now(), null, {
        credits: { hasCredits: true, unlimited: false, balance: null },
      }),
    );
    expect(book.forecast('a', clock.now())).toBeNull();
    book.observe('b', snapshot(clock.now(), 10));
    expect(book.forecast('b', clock.now())).toBeNull();
  });

  it('an exhausted weekly window has run out now', () => {
    const clock = new FakeClock();
    const book = new QuotaBook({ clock });
    book.observe('a', snapshot(clock.now(), 100));
    expect(book.forecast('a', clock.now())).toMatchObject({ runsOutAt: clock.now() });
  });

  it('uses the weekly window when it arrives in the primary slot (no 5-hour window)', () => {
    const clock = new FakeClock();
    const book = new QuotaBook({ clock });
    const start = clock.now();
    const resetsAt = start + 6 * day;
    for (let index = 0; index <= 4; index++) {
      const used = 10 + index * 5;
      book.observe('a', {
        ...snapshot(start + index * hour, null),
        primary: { usedPercent: used, windowMinutes: 10080, resetsAt },
      });
    }
    const forecast = book.forecast('a', start + 4 * hour);
    expect(forecast?.percentPerHour).toBeCloseTo(5);
    expect(forecast?.runsOutAt).toBe(start + 4 * hour + 14 * hour);
  });
});

describe('QuotaBook default writer', () => {
  it('writes a state/quota.json that reads back through the schema', async () => {
    const { mkdtemp, readFile, rm, stat } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const folder = await mkdtemp(join(tmpdir(), 'quota-book-'));
    try {
      const clock = new FakeClock();
      const path = join(folder, 'state', 'quota.json');
      const book = new QuotaBook({ clock, path });
      book.observe('a', snapshot(clock.now(), 10, { plan: 'plus' }));
      await book.flush();
      const file = quotaFileSchema.parse(JSON.parse(await readFile(path, 'utf8')));
      expect(file.profiles.a?.latest?.plan).toBe('plus');
      expect((await stat(path)).mode & 0o777).toBe(0o600);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe('QuotaBook.setAccounts', () => {
  it('drops the figures of a name gone or held by another account, and stamps the rest', () => {
    const clock = new FakeClock();
    const book = new QuotaBook({ clock });
    book.fromFile({
      version: 1,
      profiles: {
        kept: { latest: snapshot(clock.now(), 10), history: [], account: 'stamp-k' },
        reused: { latest: snapshot(clock.now(), 40), history: [], account: 'stamp-old' },
        removed: { latest: snapshot(clock.now(), 50), history: [], account: 'stamp-r' },
        older: { latest: snapshot(clock.now(), 20), history: [] },
      },
    });
    const accounts = new Map([
      ['kept', 'stamp-k'],
      ['reused', 'stamp-new'],
      ['older', 'stamp-o'],
    ]);
    expect(book.setAccounts(accounts)).toBe(true);
    expect(book.profiles().sort()).toEqual(['kept', 'older']);
    // Figures from before stamps were kept take the profile's; a new entry is stamped at once.
    book.observe('reused', snapshot(clock.now(), 3));
    const file = book.toFile();
    expect(file.profiles['older']?.account).toBe('stamp-o');
    expect(file.profiles['reused']?.account).toBe('stamp-new');
    expect(file.profiles['reused']?.latest?.secondary?.usedPercent).toBe(3);
    expect(book.owns('removed', 'stamp-r')).toBe(false);
    expect(book.setAccounts(accounts)).toBe(false);
  });
});
