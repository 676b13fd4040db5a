/**
 * The line `codex-lab codex` prints after Codex exits (`describeRun`): what moved or was refused in
 * this run, and the accounts behind it — never accounts that had nothing to do with it, never
 * Codex's retries of one turn counted as turns, and an account that lost its sign-in named with
 * the command that fixes it.
 */
import { describe, expect, it } from 'vitest';
import type { ProfileView, RequestView } from '../../../core/service/contract.ts';
import { describeRun, runHasNews } from '../../../core/service/quota-text.ts';
import { uiRequest } from '../../helpers/ui-lab-state.ts';

const options = { now: Date.UTC(2026, 10, 30, 23, 30), timeZone: 'UTC' };
let id = 0;
function request(patch: Partial<RequestView>): RequestView {
  id += 1;
  return uiRequest({
    id,
    at: '2026-11-30T23:08:00.000Z',
    sessionId: 's',
    runId: 'run',
    profile: 'a',
    ...patch,
  });
}
type Profile = Pick<ProfileView, 'name' | 'status' | 'unavailableUntil'>;
const ok = (name: string): Profile => ({ name, status: 'ok', unavailableUntil: null });
const limited = (name: string, until = '2026-11-30T23:38:00.000Z'): Profile => ({
  name,
  status: 'limited',
  unavailableUntil: until,
});
const signedOut = (name: string): Profile => ({
  name,
  status: 'auth_error',
  unavailableUntil: null,
});

describe('describeRun', () => {
  it('says nothing when every turn stayed where it was', () => {
    expect(describeRun([request({}), request({})], [ok('a'), limited('c')], options)).toBeNull();
  });

  it('names a move once, and only the account it moved away from', () => {
    const moved = request({
      profile: 'b',
      route: 'fallback',
      fallback: [{ profile: 'a', reason: 'usage limit' }],
    });
    expect(
      describeRun([moved, { ...moved, id: 99 }], [limited('a'), ok('b'), limited('c')], options),
    ).toBe('this run: a → b at 23:08, a limited until 23:38');
  });

  it('names where a session moved from when the move followed the old account’s own failures (no fallback chain)', () => {
    // b answered 503 three times (Codex retried each), then the router chose a for the session.
    const failed = Array.from({ length: 3 }, () =>
      request({ profile: 'b', route: 'best', status: 503 }),
    );
    const moved = request({ profile: 'a', route: 'fallback', fallback: [], status: 200 });
    expect(describeRun([...failed, moved], [ok('a'), ok('b')], options)).toBe(
      'this run: b → a at 23:08',
    );
    // With nothing before it in the run, the move is said without a made-up origin.
    expect(describeRun([moved], [ok('a'), ok('b')], options)).toBe('this run: moved to a at 23:08');
  });

  it('counts Codex’s retries of a refused turn as requests, and names no unrelated account', () => {
    // A pinned turn refused while its account's refresh failed for a moment: Codex retried.
    const refusals = Array.from({ length: 17 }, () =>
      request({ profile: null, route: null, status: 503, at: '2026-11-30T23:22:00.000Z' }),
    );
    expect(describeRun(refusals, [ok('a'), ok('b'), limited('c')], options)).toBe(
      'this run: refused 17 times from 23:22 (status 503)',
    );
  });

  it('on a pool out of quota names the limited accounts, and one that lost its sign-in', () => {
    const refused = request({ profile: null, route: null, status: 429 });
    expect(describeRun([refused], [limited('a'), signedOut('b')], options)).toBe(
      'this run: refused once from 23:08 (no account had quota left), a limited until 23:38, b needs a sign-in (codex-lab login b)',
    );
  });

  it('on the router’s 400 for a pool whose other accounts need a sign-in, says so in words', () => {
    // Codex would word a 429 as its own "usage limit" and hide the sign-in: the router sends 400.
    const refused = request({ profile: null, route: null, status: 400 });
    expect(describeRun([refused], [limited('a'), signedOut('b')], options)).toBe(
      'this run: refused once from 23:08 (no signed-in account had quota left), a limited until 23:38, b needs a sign-in (codex-lab login b)',
    );
    expect(describeRun([refused], [signedOut('a'), signedOut('b')], options)).toBe(
      'this run: refused once from 23:08 (every account needs a sign-in), a needs a sign-in (codex-lab login a), b needs a sign-in (codex-lab login b)',
    );
  });

  it('tells a pinned profile’s limit from the pool’s, and names the accounts that had quota', () => {
    const profiles = [ok('a'), limited('b', '2026-12-01T01:03:00.000Z'), ok('c')];
    // The upstream's own 429 on the pinned profile (the router had no reason to refuse yet).
    const upstream = request({
      profile: 'b',
      route: 'pinned',
      pinned: 'b',
      status: 429,
      reason: 'Pinned by session pin.',
    });
    expect(runHasNews([upstream])).toBe(true);
    // Pinned by the run itself (`--profile b`): no unpin lifts that pin.
    expect(
      describeRun([upstream], profiles, { ...options, runPin: { profile: 'b', source: 'flag' } }),
    ).toBe(
      'this run: pinned profile b is limited until 01:03, refused once from 23:08; a and c have quota (run without --profile to let the router choose)',
    );
    expect(
      describeRun([upstream], profiles, {
        ...options,
        runPin: { profile: 'b', source: 'environment' },
      }),
    ).toBe(
      'this run: pinned profile b is limited until 01:03, refused once from 23:08; a and c have quota (unset CODEX_LAB_PROFILE to let the router choose)',
    );
    // A session or repository pin (stored): unpin it, or let it fall over.
    expect(describeRun([upstream], profiles, options)).toBe(
      'this run: pinned profile b is limited until 01:03, refused once from 23:08; a and c have quota (unpin, or pin with --allow-fallback)',
    );
    // The router's refusal once it knows: no profile answered, the record names the pin.
    const refusal = request({
      profile: null,
      route: null,
      pinned: 'b',
      status: 429,
      reason: 'The pinned profile b has reached its usage limit.',
    });
    expect(describeRun([refusal, { ...refusal, id: 98 }], profiles, options)).toBe(
      'this run: pinned profile b is limited until 01:03, refused 2 times from 23:08; a and c have quota (unpin, or pin with --allow-fallback)',
    );
    // A pinned profile that lost its sign-in, with one other account full.
    const signIn = request({
      profile: null,
      route: null,
      pinned: 'b',
      status: 400,
      reason: 'The pinned profile b needs a new sign-in: run codex-lab login b.',
    });
    const full = {
      ...ok('c'),
      quota: {
        primary: { usedPercent: 100, windowMinutes: 300, resetsAt: null },
        secondary: null,
        updatedAt: null,
      },
    };
    expect(describeRun([signIn], [ok('a'), signedOut('b'), full], options)).toBe(
      'this run: pinned profile b needs a sign-in (codex-lab login b), refused once from 23:08; a has quota (unpin, or pin with --allow-fallback)',
    );
    // A pinned turn that went through is no news.
    expect(runHasNews([request({ profile: 'b', route: 'pinned', pinned: 'b' })])).toBe(false);
    // What the reason says is not read: only the recorded pin counts.
    expect(
      runHasNews([
        request({ profile: 'b', route: 'best', status: 429, reason: 'The pinned profile x has …' }),
      ]),
    ).toBe(false);
  });
});
