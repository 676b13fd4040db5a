/**
 * A plan without the 5-hour window may report its weekly window in the upstream's `primary` slot
 * (and nothing in `secondary`). Every surface names a window by what it is, not by the slot it
 * came in: `list` and `usage` put it under WEEKLY, the dashboard's row and card show it as the
 * weekly window once, and the 5-hour window is the one not known.
 */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { quotaCells } from '../../core/cli/format.ts';
import { windowsByLength } from '../../core/format.ts';
import { AccountList } from '../../renderer/components/account-list.tsx';
import { uiProfile, uiState } from '../helpers/ui-lab-state.ts';

const now = Date.parse('2030-01-01T12:00:00.000Z');
const text = (html: string) => html.replace(/<[^>]+>/g, ' ');
const weekly = { usedPercent: 30, windowMinutes: 10080, resetsAt: '2030-01-04T12:00:00.000Z' };
const fiveHour = { usedPercent: 12, windowMinutes: 300, resetsAt: '2030-01-01T15:00:00.000Z' };
const weeklyOnly = uiProfile('team', {
  quota: { primary: weekly, secondary: null, updatedAt: '2030-01-01T12:00:00.000Z' },
});

describe('a weekly window reported as primary', () => {
  it('is the WEEKLY cell of list and usage, and the 5-hour cell is not known', () => {
    const [, five, week] = quotaCells(weeklyOnly, now);
    expect(week!.text).toBe('70% left, resets in 3d');
    expect(five!.text).toBe('not known yet');
  });

  it('is the weekly window of a dashboard row, shown once', () => {
    const lab = uiState([weeklyOnly]);
    const row = text(renderToStaticMarkup(<AccountList lab={lab} now={now} />));
    expect(row.match(/\bwk\b/g)).toHaveLength(1);
    expect(row).toMatch(/\b5h\b/);
  });

  it('is told apart by length in either slot, and a lone window by its own length', () => {
    expect(windowsByLength({ primary: weekly, secondary: fiveHour })).toEqual({
      fiveHour,
      weekly,
    });
    expect(windowsByLength({ primary: fiveHour, secondary: weekly })).toEqual({
      fiveHour,
      weekly,
    });
    expect(windowsByLength({ primary: weekly, secondary: null })).toEqual({
      fiveHour: null,
      weekly,
    });
    expect(windowsByLength({ primary: null, secondary: fiveHour })).toEqual({
      fiveHour,
      weekly: null,
    });
    // Without a length, the slot says it (the upstream's order).
    const unknown = { ...weekly, windowMinutes: null };
    expect(windowsByLength({ primary: unknown, secondary: null })).toEqual({
      fiveHour: unknown,
      weekly: null,
    });
  });
});
