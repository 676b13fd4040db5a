/** The sticky shortcut decides exactly what the full policy walk decides, or defers to it. */
import { describe, expect, it } from 'vitest';
import {
  chooseProfile,
  circuitTrial,
  stickyDecision,
  type RoutingCandidate,
} from '../../../core/router/policy.ts';
import type { RouteContext } from '../../../core/router/route-context.ts';

const now = Date.UTC(2026, 10, 30, 9);
const context: RouteContext = {
  sessionId: 's',
  sessionSource: 'header',
  repo: null,
  model: 'gpt-6.2-sol',
  headerProfile: null,
  turnState: null,
};

/** A small deterministic generator, so failures reproduce. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function pool(next: () => number, size: number): RoutingCandidate[] {
  return Array.from({ length: size }, (_, index) => {
    const roll = next();
    const used = Math.floor(next() * 101);
    return {
      name: `p${index}`,
      status: roll < 0.1 ? 'auth_error' : roll < 0.2 ? 'limited' : roll < 0.25 ? 'unknown' : 'ok',
      unavailableUntil: roll >= 0.1 && roll < 0.2 ? now + (next() < 0.5 ? -1000 : 3_600_000) : null,
      circuitOpenUntil: next() < 0.1 ? now + 30_000 : null,
      quota: {
        observedAt: now,
        source: 'headers',
        plan: 'plus',
        primary: { usedPercent: used, windowMinutes: 300, resetsAt: now + 3_600_000 },
        secondary: null,
        credits: null,
        activeLimit: null,
        limitReached: null,
        others: [],
      },
    };
  });
}

describe('stickyDecision', () => {
  it('matches chooseProfile for a session with no pin and nothing excluded, over 2 000 pools', () => {
    const next = random(7);
    let shortcuts = 0;
    for (let round = 0; round < 2000; round += 1) {
      const candidates = pool(next, 1 + Math.floor(next() * 12));
      const session = candidates[Math.floor(next() * candidates.length)]!;
      const full = chooseProfile({
        candidates,
        context,
        sessionProfile: session.name,
        pin: null,
        active: next() < 0.5 ? 'auto' : candidates[0]!.name,
        bucketProfile: null,
        exclude: new Set(),
        now,
      });
      const shortcut = stickyDecision(session, now);
      if (shortcut === null) {
        // Deferred: the full walk does not keep the session where it is, unless as a trial
        // (every usable profile's circuit open, the session's included).
        if (full.route === 'sticky' && full.profile === session.name) {
          expect(circuitTrial(candidates, new Set(), now)).toBe(true);
        }
        continue;
      }
      shortcuts += 1;
      expect({ ...shortcut, excluded: [] }).toEqual({ ...full, excluded: [] });
    }
    expect(shortcuts).toBeGreaterThan(500);
  });
});
