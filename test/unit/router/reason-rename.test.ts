/**
 * A rename rewrites a request's reason only where the sentence names the profile: a profile
 * named like a word of the sentence ("limited", "active", "the") leaves that word alone, in the
 * router's log and as the journal's readers apply the rename (core/router/reason-names.ts).
 */
import { describe, expect, it } from 'vitest';
import { chooseProfile, type RoutingCandidate } from '../../../core/router/policy.ts';
import {
  RequestLog,
  requestsFromJournal,
  type RequestRecord,
} from '../../../core/router/request-log.ts';
import { named, profileRef, renameInReason } from '../../../core/router/reason-names.ts';

const now = Date.UTC(2026, 0, 5, 12, 0, 0);
const until = now + 2 * 3_600_000;
const untilText = new Date(until).toISOString();

function candidate(name: string, patch: Partial<RoutingCandidate> = {}): RoutingCandidate {
  return {
    name,
    status: 'ok',
    unavailableUntil: null,
    circuitOpenUntil: null,
    quota: null,
    ...patch,
  };
}

const limited: Partial<RoutingCandidate> = { status: 'limited', unavailableUntil: until };

/**
 * A request pinned (with fallback) to a limited profile called "limited", whose active profile
 * "active" is limited too, served by "the": the engine's record of it (reason and the places it
 * names profiles at).
 */
function recordOfDecision(): Omit<RequestRecord, 'id'> {
  const decision = chooseProfile({
    candidates: [candidate('limited', limited), candidate('active', limited), candidate('the')],
    context: {
      sessionId: 's1',
      sessionSource: 'header',
      repo: '/repo',
      model: 'gpt-5.1-codex',
      headerProfile: 'limited',
      turnState: null,
    },
    sessionProfile: null,
    pin: { profile: 'limited', allowFallback: true, source: 'header' },
    active: 'active',
    bucketProfile: null,
    exclude: new Set(),
    now,
  });
  expect(decision.profile).toBe('the');
  expect(decision.detail).toBe(
    `Pinned limited is limited until ${untilText}, pin allows fallback; active active is limited until ${untilText}; best: quota not known yet.`,
  );
  return {
    at: now,
    sessionId: 's1',
    runId: null,
    profile: 'the',
    route: 'fallback',
    pinned: null,
    reason: decision.detail,
    reasonNames: decision.detailNames,
    why: decision.why,
    model: 'gpt-5.1-codex',
    kind: 'responses',
    status: 200,
    ttfbMs: 1,
    durationMs: 2,
    tokens: null,
    fallback: [],
  };
}

const renamedReason = `Pinned work is limited until ${untilText}, pin allows fallback; active main is limited until ${untilText}; best: quota not known yet.`;

describe('a rename of a profile named like a word of the reason', () => {
  it('rewrites only the profile’s name in the router’s log', () => {
    const log = new RequestLog(10);
    log.record(recordOfDecision());
    log.rename('limited', 'work', now + 1);
    log.rename('active', 'main', now + 2);
    // The profile that served it is not named in the sentence: only its field moves.
    log.rename('the', 'spare', now + 3);
    const [record] = log.records();
    expect(record!.reason).toBe(renamedReason);
    expect(record!.profile).toBe('spare');
    // The view shows the sentence, not the router's bookkeeping of where it names profiles.
    expect(log.list()[0]).not.toHaveProperty('reasonNames');
  });

  it('rewrites only the profile’s name as the journal’s readers apply it', () => {
    const lines = [
      { type: 'request', id: 1, ...recordOfDecision() },
      { type: 'rename', from: 'limited', to: 'work', at: now + 1 },
      { type: 'rename', from: 'active', to: 'main', at: now + 2 },
    ];
    // Through JSON, as the journal file holds it.
    const [record] = requestsFromJournal(JSON.parse(JSON.stringify(lines)));
    expect(record!.reason).toBe(renamedReason);
  });

  it('names a removed profile as removed, and leaves a sentence whose names do not fit it alone', () => {
    const log = new RequestLog(10);
    log.record(recordOfDecision());
    log.rename('limited', null, now + 1);
    expect(log.records()[0]!.reason).toBe(
      `Pinned limited (removed) is limited until ${untilText}, pin allows fallback; active active is limited until ${untilText}; best: quota not known yet.`,
    );
    expect(renameInReason('Pinned x.', [{ at: 0, profile: 'x' }], () => 'y')).toBeNull();
  });

  it('leaves a record from before the places were kept as it was written', () => {
    const log = new RequestLog(10);
    const { reasonNames: _names, ...old } = recordOfDecision();
    log.record(old);
    log.rename('limited', 'work', now + 1);
    expect(log.records()[0]!.reason).toBe(old.reason);
    expect(log.records()[0]!.profile).toBe('the');
  });
});

describe('named', () => {
  it('records where each profile lands, inside nested sentences too', () => {
    const inner = named`${profileRef('b')} is limited`;
    const sentence = named`Pinned ${profileRef('a')}; ${inner}.`;
    expect(sentence).toEqual({
      text: 'Pinned a; b is limited.',
      names: [
        { at: 7, profile: 'a' },
        { at: 10, profile: 'b' },
      ],
    });
  });
});
