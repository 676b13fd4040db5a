/**
 * A profile the router skips for failing upstream (its circuit is open: the view's
 * `skippedUntil`): the pool summary does not send new sessions there, and every surface words its
 * status the one way, never "ready".
 */
import { describe, expect, it } from 'vitest';
import { failingUpstreamText, formatStatus, formatStatusShort } from '../../../core/format.ts';
import { chooseProfile, type RoutingCandidate } from '../../../core/router/policy.ts';
import { poolSummaryOf } from '../../../core/service/pool-view.ts';
import { describePool } from '../../../core/service/quota-text.ts';
import { uiProfile } from '../../helpers/ui-lab-state.ts';

const now = Date.parse('2030-01-01T12:00:00.000Z');
const inForty = new Date(now + 40_000).toISOString();

describe('a profile skipped for failing upstream', () => {
  it('is not where new sessions go, and is not counted ready', () => {
    // ann has more room, so with her circuit closed she would be the pick.
    const ann = uiProfile('ann', { skippedUntil: inForty });
    const ben = uiProfile('ben', {
      quota: { ...ann.quota, secondary: { ...ann.quota.secondary!, usedPercent: 70 } },
    });
    const pool = poolSummaryOf([ann, ben], 'auto', now);
    expect(pool.next.profile).toBe('ben');
    expect(pool.eligible).toEqual(['ben']);
    // Not ready, but its quota is not spent: the headroom counts it (60% and 30% left).
    expect(describePool(pool, { now, timeZone: 'UTC' }).headline).toBe(
      'Pool 45% left · 1 of 2 ready',
    );
    // Once the router tries it again, it is back.
    expect(poolSummaryOf([ann, ben], 'auto', now + 40_000).next.profile).toBe('ann');
  });

  it('is skipped even when it is the active profile', () => {
    const pool = poolSummaryOf(
      [uiProfile('ann', { skippedUntil: inForty, active: true }), uiProfile('ben')],
      'ann',
      now,
    );
    expect(pool.next.profile).toBe('ben');
  });

  it('says "failing upstream, tried again in 40s" where it would say ready', () => {
    expect(failingUpstreamText('ok', inForty, now)).toBe('failing upstream, tried again in 40s');
    expect(formatStatus('ok', null, { now }, undefined, inForty)).toBe(
      'failing upstream, tried again in 40s',
    );
    expect(formatStatusShort('unknown', null, { now }, undefined, inForty)).toBe(
      'failing upstream, tried again in 40s',
    );
    // A limit or a sign-in says more; a past time is ready again.
    expect(formatStatus('auth_error', null, { now }, null, inForty)).toBe('needs sign-in');
    expect(formatStatus('ok', null, { now: now + 40_000 }, undefined, inForty)).toBe('ready');
  });
});

describe('every usable profile failing upstream', () => {
  const candidate = (name: string, circuitOpenUntil: number | null): RoutingCandidate => ({
    name,
    status: 'ok',
    unavailableUntil: null,
    circuitOpenUntil,
    quota: null,
  });
  const newSession = {
    context: {
      sessionId: null,
      sessionSource: null,
      repo: null,
      model: null,
      headerProfile: null,
      turnState: null,
    },
    sessionProfile: null,
    pin: null,
    active: 'auto',
    bucketProfile: null,
    exclude: new Set<string>(),
    now,
  } as const;

  it('lets a new session through as a trial, in the chooser itself', () => {
    const decision = chooseProfile({
      ...newSession,
      candidates: [candidate('ann', now + 40_000), candidate('ben', now + 90_000)],
    });
    expect(decision).toMatchObject({ outcome: 'routed', profile: 'ann' });
    // Not while one usable profile has a closed circuit, nor for one failed on this request.
    expect(
      chooseProfile({
        ...newSession,
        candidates: [candidate('ann', now + 40_000), candidate('ben', null)],
      }).profile,
    ).toBe('ben');
    expect(
      chooseProfile({
        ...newSession,
        candidates: [candidate('ann', now + 40_000), candidate('ben', null)],
        exclude: new Set(['ben']),
      }).profile,
    ).toBe('ann');
  });

  it('names the trial profile as where new sessions go, as the router sends them', () => {
    const pool = poolSummaryOf(
      [
        uiProfile('ann', { skippedUntil: inForty }),
        uiProfile('ben', { skippedUntil: new Date(now + 90_000).toISOString() }),
      ],
      'auto',
      now,
    );
    expect(pool.next.profile).toBe('ann');
  });
});
