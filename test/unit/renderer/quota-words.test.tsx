/**
 * Every dashboard surface that shows quota says it in the shared words (`core/format.ts`): what is
 * left, with bars that empty as quota is used and warn when little is left. A component never
 * words a percentage itself: the scan at the end fails on a "% used" or "% left" literal in a
 * component.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { poolSummaryOf } from '../../../core/service/pool-view.ts';
import { HistoryChart } from '../../../renderer/components/history-chart.tsx';
import { PoolBanner } from '../../../renderer/components/pool-banner.tsx';
import { QuotaBar } from '../../../renderer/components/quota-bar.tsx';
import { AccountList } from '../../../renderer/components/account-list.tsx';
import { uiProfile, uiState } from '../../helpers/ui-lab-state.ts';

const now = Date.parse('2030-01-01T12:00:00.000Z');
const text = (html: string) => html.replace(/<[^>]+>/g, '');
const fiveHour = { usedPercent: 12, windowMinutes: 300, resetsAt: '2030-01-01T15:00:00.000Z' };

describe('the quota bar', () => {
  it('shows what is left, fills with it and says it to a screen reader', () => {
    const html = renderToStaticMarkup(
      <QuotaBar profile="work" window={fiveHour} fallbackTitle="5-hour" now={now} />,
    );
    // The reset as a clock time (the system's zone) with its countdown, in the bar's words.
    expect(text(html)).toMatch(/88% left, resets \d\d:\d\d \(in 3h\)/);
    expect(html).toContain('aria-label="work 5-hour window"');
    expect(html).toContain('aria-valuenow="88"');
    expect(html).toMatch(/aria-valuetext="88% left, resets \d\d:\d\d \(in 3h\)"/);
    expect(html).toContain('width:88%');
    expect(html).not.toMatch(/used/);
  });

  it('warns when little is left and says a full window is used up', () => {
    const low = renderToStaticMarkup(
      <QuotaBar
        profile="work"
        window={{ ...fiveHour, usedPercent: 75 }}
        fallbackTitle=""
        now={now}
      />,
    );
    expect(low).toContain('bar-warn');
    const full = renderToStaticMarkup(
      <QuotaBar
        profile="work"
        window={{ ...fiveHour, usedPercent: 100 }}
        fallbackTitle=""
        now={now}
      />,
    );
    expect(full).toContain('bar-critical');
    expect(text(full)).toMatch(/used up, resets \d\d:\d\d \(in 3h\)/);
    const plenty = renderToStaticMarkup(
      <QuotaBar
        profile="work"
        window={{ ...fiveHour, usedPercent: 20 }}
        fallbackTitle=""
        now={now}
      />,
    );
    expect(plenty).toContain('bar-ok');
  });

  it('says an unreported window is not known yet', () => {
    const html = renderToStaticMarkup(
      <QuotaBar profile="work" window={null} fallbackTitle="Weekly" now={now} />,
    );
    expect(text(html)).toContain('not known yet');
  });
});

describe('the dense account list', () => {
  it('shows what is left in each row, with the card bar’s words', () => {
    const lab = uiState([uiProfile('work')]);
    const html = renderToStaticMarkup(<AccountList lab={lab} now={now} />);
    expect(html).toContain('aria-label="work 5-hour window"');
    expect(html).toMatch(/aria-valuetext="88% left, resets \d\d:\d\d \(in 3h\)"/);
    expect(html).toMatch(/aria-valuetext="60% left, resets [A-Z][a-z]{2} \d\d:\d\d \(in 3d\)"/);
    expect(text(html)).toContain('88%');
    expect(html).not.toMatch(/used/);
  });

  it('says a used-up window "used up", as the card’s bar does, never "0%"', () => {
    const full = { ...fiveHour, usedPercent: 100 };
    const lab = uiState([
      uiProfile('work', { quota: { ...uiProfile('work').quota, primary: full } }),
    ]);
    const row = text(renderToStaticMarkup(<AccountList lab={lab} now={now} />));
    const card = text(
      renderToStaticMarkup(<QuotaBar profile="work" window={full} fallbackTitle="" now={now} />),
    );
    expect(card).toContain('used up');
    expect(row).toMatch(/5h\s*used up/);
    expect(row).not.toMatch(/\b0%/);
  });
});

describe('the pool banner', () => {
  it('says the pool’s headroom as what is left', () => {
    const pool = poolSummaryOf([uiProfile('work')], 'auto', now);
    const shown = text(renderToStaticMarkup(<PoolBanner pool={pool} now={now} />));
    expect(shown).toContain('60%left in the pool');
    expect(shown).toContain('60% left in its tightest window');
    expect(shown).not.toMatch(/% used/);
  });
});

describe('the history chart', () => {
  it('charts what is left and words each point the same way', () => {
    const history = [
      { at: '2030-01-01T11:00:00.000Z', primary: 10, secondary: 39 },
      { at: '2030-01-01T11:55:00.000Z', primary: 12, secondary: 40 },
    ];
    const profile = uiProfile('work', { history });
    const html = renderToStaticMarkup(
      <HistoryChart
        profile="work"
        history={history}
        quota={profile.quota}
        forecast={null}
        now={now}
      />,
    );
    expect(html).toContain('5-hour 88% left, weekly 60% left');
    expect(text(html)).toMatch(/— weekly 60% left/);
    expect(html).not.toMatch(/% used/);
  });

  it('names a lone 5-hour window as list does, whatever its slot (one rule, windowSlots)', () => {
    const history = [
      { at: '2030-01-01T11:00:00.000Z', primary: null, secondary: 10 },
      { at: '2030-01-01T11:55:00.000Z', primary: null, secondary: 12 },
    ];
    const quota = { primary: null, secondary: fiveHour, updatedAt: '2030-01-01T11:55:00.000Z' };
    const profile = uiProfile('work', { history, quota });
    const html = renderToStaticMarkup(
      <HistoryChart
        profile="work"
        history={history}
        quota={profile.quota}
        forecast={null}
        now={now}
      />,
    );
    expect(html).toContain('5-hour 88% left, weekly not known yet');
  });
});

describe('no component words a percentage itself', () => {
  it('finds no "% used" or "% left" wording outside the shared module', () => {
    const folder = join(import.meta.dirname, '../../../renderer/components');
    const offenders: string[] = [];
    for (const file of readdirSync(folder).filter((name) => name.endsWith('.tsx'))) {
      // Comments may quote the words (examples); code may not spell them.
      const source = readFileSync(join(folder, file), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      // A literal percent word, or a percent built beside "used"/"left"/"remaining" in JSX text.
      const pattern = /%\s*(used|left|remaining)\b|\b(used|left) in the pool|\}%\s*\(|quota used/g;
      for (const match of source.matchAll(pattern)) offenders.push(`${file}: ${match[0]}`);
    }
    expect(offenders).toEqual([]);
  });
});
