/**
 * What an account's card badge and list row say it is in: a ready account with a window used up
 * waits (as the pool banner and the tray count it), not "Ready"; the account new sessions go to
 * is marked, in Auto too; an active account that cannot take sessions does not claim them.
 */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { ProfileView } from '../../../core/service/contract.ts';
import { AccountList } from '../../../renderer/components/account-list.tsx';
import { ProfileCard } from '../../../renderer/components/profile-card.tsx';
import { sessionMarks } from '../../../renderer/format.ts';
import { uiProfile, uiState } from '../../helpers/ui-lab-state.ts';

const now = Date.parse('2030-01-01T12:00:00.000Z');
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

/** Weekly used up until Thursday, 5-hour nearly unused: the router skips it until then. */
const weekGone = uiProfile('weekgone', {
  quota: {
    primary: { usedPercent: 5, windowMinutes: 300, resetsAt: '2030-01-01T15:00:00.000Z' },
    secondary: { usedPercent: 100, windowMinutes: 10080, resetsAt: '2030-01-03T09:00:00.000Z' },
    updatedAt: '2030-01-01T12:00:00.000Z',
  },
});
const limited = uiProfile('limited', {
  status: 'limited',
  unavailableUntil: '2030-01-01T14:00:00.000Z',
  quota: {
    primary: { usedPercent: 100, windowMinutes: 300, resetsAt: '2030-01-01T14:00:00.000Z' },
    secondary: { usedPercent: 30, windowMinutes: 10080, resetsAt: '2030-01-04T12:00:00.000Z' },
    updatedAt: '2030-01-01T12:00:00.000Z',
  },
});

/** The row of `name` in the list's markup, as text with its tags' titles. */
function rowOf(profiles: ProfileView[], active: string, name: string): string {
  const html = renderToStaticMarkup(
    <AccountList lab={uiState(profiles, { active }, now)} now={now} />,
  );
  const start = html.indexOf(`data-profile-row="${name}"`);
  expect(start).toBeGreaterThan(-1);
  const end = html.indexOf('</li>', start);
  return html.slice(start, end);
}

/** The card's badges, as text (marked as the page marks it, `sessionMarks`). */
function badgesOf(profile: ProfileView, profiles: ProfileView[], active: string): string {
  const marks = sessionMarks(uiState(profiles, { active }, now), profile.name);
  const html = renderToStaticMarkup(
    <ProfileCard
      profile={profile}
      isActive={marks.active}
      takesNewSessions={marks.newSessions}
      now={now}
    />,
  );
  const start = html.indexOf('class="badges"');
  return text(html.slice(start, html.indexOf('</header>', start)));
}

describe('an account with a window used up', () => {
  const profiles = [uiProfile('ready'), weekGone];
  it('waits on its card, not "Ready"', () => {
    const badges = badgesOf(weekGone, profiles, 'auto');
    expect(badges).not.toMatch(/Ready/);
    expect(badges).toMatch(/Weekly used up/);
  });

  it('waits on its row, with when it is back, its edge coloured as a limited one', () => {
    const html = renderToStaticMarkup(<AccountList lab={uiState(profiles, {}, now)} now={now} />);
    expect(html).toMatch(/class="account-row status-limited[^"]*" data-profile-row="weekgone"/);
    const row = rowOf(profiles, 'auto', 'weekgone');
    expect(text(row)).toMatch(/Weekly used up/);
    expect(row).toMatch(/title="Weekly used up until [^"]*09:00/);
    expect(row).toMatch(/tag-limited/);
  });
});

describe('where new sessions go', () => {
  it('is marked in Auto on that account’s row and card only', () => {
    const profiles = [
      uiProfile('low', { quota: { ...weekGone.quota, secondary: null } }),
      uiProfile('high'),
    ];
    const next = uiState(profiles, {}, now).pool.next.profile;
    expect(next).toBe('high');
    expect(text(rowOf(profiles, 'auto', 'high'))).toMatch(/New sessions/);
    expect(text(rowOf(profiles, 'auto', 'low'))).not.toMatch(/New sessions/);
    expect(badgesOf(profiles[1]!, profiles, 'auto')).toMatch(/New sessions/);
    expect(badgesOf(profiles[0]!, profiles, 'auto')).not.toMatch(/New sessions/);
  });

  it('is not claimed by an active account that cannot take them: the one taking them is marked', () => {
    const profiles = [limited, uiProfile('spare')];
    const row = rowOf(profiles, 'limited', 'limited');
    expect(text(row)).toMatch(/Active/);
    expect(row).not.toMatch(/New sessions go here/);
    expect(text(rowOf(profiles, 'limited', 'spare'))).toMatch(/New sessions/);
    expect(badgesOf(limited, profiles, 'limited')).not.toMatch(/New sessions/);
    expect(badgesOf(profiles[1]!, profiles, 'limited')).toMatch(/New sessions/);
  });

  it('says only Active on an active account that takes them', () => {
    const profiles = [uiProfile('work'), uiProfile('spare')];
    const row = rowOf(profiles, 'work', 'work');
    expect(text(row)).toMatch(/Active/);
    expect(text(row)).not.toMatch(/New sessions/);
    expect(row).toMatch(/title="New sessions go here"/);
  });
});

describe('a card’s controls, as a screen reader lists them', () => {
  it('name the account they act on, beside what they show', () => {
    const html = renderToStaticMarkup(
      <ProfileCard
        profile={uiProfile('work', {
          history: [
            { at: '2030-01-01T11:00:00.000Z', primary: 10, secondary: 38 },
            { at: '2030-01-01T11:30:00.000Z', primary: 11, secondary: 39 },
          ],
        })}
        isActive={false}
        now={now}
      />,
    );
    expect(html).toContain('aria-label="Make active: work"');
    expect(html).toContain('aria-label="Sign in again as work"');
    // The history is a figure named for the account, not for its legend's words.
    expect(html).toMatch(/<figure [^>]*aria-label="work quota history"/);
  });
});
