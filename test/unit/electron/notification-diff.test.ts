import { describe, expect, it } from 'vitest';
import { capitalize, failingUpstreamLabel, failingUpstreamText } from '../../../core/format.ts';
import { diffNotifications } from '../../../electron/notifications/notification-diff.ts';
import { uiProfile, uiState } from '../../helpers/ui-lab-state.ts';

const options = { now: Date.parse('2030-01-01T12:00:00Z'), timeZone: 'UTC' };

describe('diffNotifications', () => {
  it('says nothing on the first state', () => {
    expect(
      diffNotifications(null, uiState([uiProfile('work', { status: 'limited' })]), options),
    ).toEqual([]);
  });

  it('notifies once when a profile becomes limited', () => {
    const before = uiState([uiProfile('work'), uiProfile('home')]);
    const after = uiState([
      uiProfile('work', { status: 'limited', unavailableUntil: '2030-01-01T14:30:00Z' }),
      uiProfile('home'),
    ]);
    expect(diffNotifications(before, after, options)).toEqual([
      {
        profile: 'work',
        kind: 'limited',
        title: 'work reached its usage limit',
        body: 'New requests go to your other accounts until 14:30.',
      },
    ]);
    expect(diffNotifications(after, after, options)).toEqual([]);
  });

  it('names an auth file that cannot be read as such, not as a sign-in', () => {
    const before = uiState([uiProfile('solo')]);
    const after = uiState([
      uiProfile('solo', {
        status: 'auth_error',
        statusCode: 'corrupt_file',
        statusMessage: '/home/u/.codex-lab/profiles/solo/auth.json is not valid JSON.',
      }),
    ]);
    expect(diffNotifications(before, after, options)).toEqual([
      {
        profile: 'solo',
        kind: 'auth_error',
        title: 'solo: auth file unreadable',
        body: '/home/u/.codex-lab/profiles/solo/auth.json is not valid JSON.',
      },
    ]);
  });

  it('notifies when a profile needs signing in again, with the service sentence', () => {
    const before = uiState([uiProfile('work', { status: 'limited' })]);
    const after = uiState([
      uiProfile('work', { status: 'auth_error', statusMessage: 'Your refresh token was revoked.' }),
    ]);
    expect(diffNotifications(before, after, options)).toMatchObject([
      {
        kind: 'auth_error',
        title: 'work needs sign-in',
        body: 'Your refresh token was revoked.',
      },
    ]);
  });

  it('ignores recoveries and newly added profiles', () => {
    const before = uiState([uiProfile('work', { status: 'limited' })]);
    const after = uiState([uiProfile('work'), uiProfile('new', { status: 'auth_error' })]);
    expect(diffNotifications(before, after, options)).toEqual([]);
  });

  describe('an account whose circuit opens (failing upstream)', () => {
    const inForty = new Date(options.now + 40_000).toISOString();
    const inNinety = new Date(options.now + 90_000).toISOString();
    const closed = uiState([uiProfile('work'), uiProfile('home')]);
    const open = (until: string) =>
      uiState([uiProfile('work', { skippedUntil: until }), uiProfile('home')]);

    it('notifies when the router starts skipping it, in the words of every surface', () => {
      expect(diffNotifications(closed, open(inForty), options)).toEqual([
        {
          profile: 'work',
          kind: 'failing_upstream',
          title: `work: ${failingUpstreamLabel}`,
          body: `${capitalize(failingUpstreamText('ok', inForty, options.now)!)}: new requests go to your other accounts.`,
        },
      ]);
    });

    it('says it once per opening: not on every push while the same circuit stays open', () => {
      expect(diffNotifications(open(inForty), open(inForty), options)).toEqual([]);
      // Pushed again while still open, its time moved on (a failed request kept it open).
      expect(diffNotifications(open(inForty), open(inNinety), options)).toEqual([]);
    });

    it('says it again when the circuit closed and opens later', () => {
      expect(diffNotifications(open(inForty), closed, options)).toEqual([]);
      expect(diffNotifications(closed, open(inNinety), options)).toHaveLength(1);
    });

    it('says it once per run of failures: a failed trial that opens the circuit again says nothing', () => {
      const since = new Date(options.now - 60_000).toISOString();
      const run = (skippedUntil?: string) =>
        uiState([
          uiProfile('work', { failingSince: since, ...(skippedUntil ? { skippedUntil } : {}) }),
          uiProfile('home'),
        ]);
      // Opened, its time up (the router tries it again), the trial failed: open again, longer.
      expect(diffNotifications(closed, run(inForty), options)).toHaveLength(1);
      expect(diffNotifications(run(inForty), run(), options)).toEqual([]);
      expect(diffNotifications(run(), run(inNinety), options)).toEqual([]);
      // It answered well (the run ended), then a new run opened it again.
      const later = uiState([
        uiProfile('work', {
          failingSince: new Date(options.now).toISOString(),
          skippedUntil: inNinety,
        }),
        uiProfile('home'),
      ]);
      expect(diffNotifications(closed, later, options)).toHaveLength(1);
    });

    it('leaves a status that says more to its own notice (limited wins over failing)', () => {
      const limited = uiState([
        uiProfile('work', { status: 'limited', skippedUntil: inForty }),
        uiProfile('home'),
      ]);
      expect(diffNotifications(closed, limited, options).map((notice) => notice.kind)).toEqual([
        'limited',
      ]);
    });

    it('says nothing for a circuit already open at start', () => {
      expect(diffNotifications(null, open(inForty), options)).toEqual([]);
    });
  });
});
