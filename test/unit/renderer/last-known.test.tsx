/**
 * The dashboard never shows a figure it cannot stand behind: an account that needs a sign-in, or
 * whose auth file or keychain cannot be read, shows its bars as last known (muted, with the age of
 * the reading and the reason first) on its card, its row and in the tray, by one rule
 * (`quotaNotLive`); each bar's reset is in its words as a clock time with its countdown (not only
 * in a hover title), and a screen reader hears it; a history of one reading says when it starts
 * rather than drawing a lone line.
 */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { formatClockTime } from '../../../core/format.ts';
import type { ProfileView } from '../../../core/service/contract.ts';
import { AccountList } from '../../../renderer/components/account-list.tsx';
import { HistoryChart } from '../../../renderer/components/history-chart.tsx';
import { ProfileCard } from '../../../renderer/components/profile-card.tsx';
import { QuotaBar } from '../../../renderer/components/quota-bar.tsx';
import { buildTrayTooltip, profileToolTip } from '../../../electron/tray/tray-menu.ts';
import { uiProfile, uiState } from '../../helpers/ui-lab-state.ts';

const now = Date.parse('2030-01-01T12:00:00.000Z');
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x27;/g, "'")
    .replace(/\s+/g, ' ');
/** The local clock time the page shows for an ISO moment (the test runs in the system zone). */
const clock = (iso: string) => formatClockTime(Date.parse(iso), { now });

/** Read two hours ago, then its sign-in expired: 90 % left on both windows, as last read. */
const stale = (name: string, patch: Partial<ProfileView>) =>
  uiProfile(name, {
    status: 'auth_error',
    statusMessage: 'The sign-in has expired.',
    quota: {
      primary: { usedPercent: 10, windowMinutes: 300, resetsAt: '2030-01-01T15:00:00.000Z' },
      secondary: { usedPercent: 10, windowMinutes: 10080, resetsAt: '2030-01-04T12:00:00.000Z' },
      updatedAt: '2030-01-01T10:00:00.000Z',
    },
    ...patch,
  });
const signIn = stale('expired', {});
const keychain = stale('locked', { statusCode: 'keyring_unavailable' });
const unreadable = stale('broken', { statusCode: 'corrupt_file' });

const cardOf = (profile: ProfileView) =>
  renderToStaticMarkup(<ProfileCard profile={profile} isActive={false} now={now} />);

describe('figures that are not live', () => {
  it.each([
    [signIn, 'Needs sign-in'],
    [keychain, 'Keychain unavailable'],
    [unreadable, 'Auth file unreadable'],
  ])('read as last known on the card of %s, muted, reason first', (profile, reason) => {
    const html = cardOf(profile);
    expect(html).not.toMatch(/bar-ok/);
    expect(html.match(/bar-fill bar-stale/g)).toHaveLength(2);
    expect(text(html)).toContain(`${reason} — last known, as of 2h ago`);
    expect(html).toContain(
      `aria-valuetext="${reason.toLowerCase()} — last known, as of 2h ago: 90% left, resets ${clock('2030-01-01T15:00:00.000Z')} (in 3h)"`,
    );
  });

  it('read as last known on the list row, muted, reason first', () => {
    const html = renderToStaticMarkup(
      <AccountList lab={uiState([uiProfile('fine'), signIn], {}, now)} now={now} />,
    );
    const row = html.slice(html.indexOf('data-profile-row="expired"'));
    expect(row).not.toMatch(/bar-ok/);
    expect(row.match(/bar-fill bar-stale/g)).toHaveLength(2);
    expect(row).toMatch(/aria-valuetext="needs sign-in — last known, as of 2h ago: 90% left/);
    expect(row).toMatch(/row-percent muted/);
    // Its age under its name, beside its state's tag.
    expect(text(row)).toMatch(/expired as of 2h ago Needs sign-in/);
    // A live account's row is as before.
    const fine = html.slice(html.indexOf('data-profile-row="fine"'), html.indexOf('</li>'));
    expect(fine).toMatch(/bar-fill bar-ok/);
  });

  it('read as last known on every card and row while the page has lost its router', () => {
    const fine = uiProfile('fine', {
      quota: {
        primary: { usedPercent: 10, windowMinutes: 300, resetsAt: '2030-01-01T15:00:00.000Z' },
        secondary: { usedPercent: 10, windowMinutes: 10080, resetsAt: '2030-01-04T12:00:00.000Z' },
        updatedAt: '2030-01-01T11:00:00.000Z',
      },
    });
    const card = renderToStaticMarkup(
      <ProfileCard profile={fine} isActive={false} now={now} offline />,
    );
    expect(card).not.toMatch(/bar-ok/);
    expect(text(card)).toContain('Not connected — last known, as of 1h ago');
    const list = renderToStaticMarkup(
      <AccountList lab={uiState([fine], {}, now)} now={now} offline />,
    );
    expect(list).not.toMatch(/bar-ok/);
    expect(list).toMatch(/aria-valuetext="not connected — last known, as of 1h ago: 90% left/);
    // Connected, the same account's figures are live.
    expect(renderToStaticMarkup(<ProfileCard profile={fine} isActive={false} now={now} />)).toMatch(
      /bar-ok/,
    );
  });

  it('read as last known in the tray, and the tooltip claims no live figure for them', () => {
    const options = { now, timeZone: 'UTC' };
    const tip = profileToolTip(signIn, options);
    // The state first, then the age of the figures (a clock time: the menu is not redrawn).
    expect(tip.split('\n').slice(0, 3)).toEqual([
      'expired — needs sign-in',
      'Last known, as of 10:00:',
      '5-hour 90% left, resets 15:00',
    ]);
    const tooltip = buildTrayTooltip(uiState([signIn], { active: 'expired' }, now), options);
    expect(tooltip).not.toMatch(/90%/);
  });

  it('leave a live account’s bars as they were', () => {
    const html = cardOf(uiProfile('work'));
    expect(html).not.toMatch(/bar-stale|last known/);
  });
});

describe('a window’s reset', () => {
  it('is shown and spoken as a clock time with its countdown, not only in a hover title', () => {
    const window = { usedPercent: 37, windowMinutes: 300, resetsAt: '2030-01-01T14:59:00.000Z' };
    const html = renderToStaticMarkup(
      <QuotaBar profile="work" window={window} fallbackTitle="5-hour" now={now} />,
    );
    const at = clock('2030-01-01T14:59:00.000Z');
    expect(text(html).replace(/ ,/g, ',')).toContain(`63% left, resets ${at} (in 2h 59m)`);
    expect(html).toContain('aria-label="work 5-hour window"');
    expect(html).toContain(`aria-valuetext="63% left, resets ${at} (in 2h 59m)"`);
  });

  it('is in the list row’s bar for a screen reader too', () => {
    const html = renderToStaticMarkup(
      <AccountList lab={uiState([uiProfile('work')], {}, now)} now={now} />,
    );
    expect(html).toContain('aria-label="work 5-hour window"');
    expect(html).toContain(
      `aria-valuetext="88% left, resets ${clock('2030-01-01T15:00:00.000Z')} (in 3h)"`,
    );
  });
});

describe('a history of fewer than two readings', () => {
  it('says when the history starts instead of drawing a lone line', () => {
    const profile = uiProfile('work', {
      history: [{ at: '2030-01-01T11:59:00.000Z', primary: 12, secondary: 40 }],
    });
    const html = renderToStaticMarkup(
      <HistoryChart
        profile="work"
        history={profile.history}
        quota={profile.quota}
        forecast={null}
        now={now}
      />,
    );
    expect(text(html)).toContain('History starts with the next reading.');
    expect(html).not.toMatch(/<svg/);
  });

  it('draws the chart from two readings on', () => {
    const html = renderToStaticMarkup(
      <HistoryChart
        profile="work"
        history={[
          { at: '2030-01-01T11:00:00.000Z', primary: 10, secondary: 38 },
          { at: '2030-01-01T11:59:00.000Z', primary: 12, secondary: 40 },
        ]}
        quota={uiProfile('work').quota}
        forecast={null}
        now={now}
      />,
    );
    expect(html).toMatch(/<svg/);
  });
});
