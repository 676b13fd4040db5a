import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../../core/router/circuit.ts';

const start = Date.UTC(2026, 0, 5);

describe('CircuitBreaker', () => {
  it('opens after three failures within ten seconds, for thirty seconds', () => {
    const breaker = new CircuitBreaker();
    expect(breaker.noteUpstreamFailure('a', start)).toBeNull();
    expect(breaker.noteUpstreamFailure('a', start + 1000)).toBeNull();
    expect(breaker.circuitOpenUntil('a', start + 1000)).toBeNull();
    expect(breaker.noteUpstreamFailure('a', start + 2000)).toBe(start + 32_000);
    expect(breaker.circuitOpenUntil('a', start + 31_999)).toBe(start + 32_000);
    expect(breaker.circuitOpenUntil('a', start + 32_000)).toBeNull();
  });

  it('does not open for failures spread out over time', () => {
    const breaker = new CircuitBreaker();
    for (let index = 0; index < 10; index++) {
      expect(breaker.noteUpstreamFailure('a', start + index * 11_000)).toBeNull();
    }
  });

  it('one profile failing never opens another', () => {
    const breaker = new CircuitBreaker({ threshold: 1 });
    breaker.noteUpstreamFailure('a', start);
    expect(breaker.circuitOpenUntil('a', start)).not.toBeNull();
    expect(breaker.circuitOpenUntil('b', start)).toBeNull();
  });

  it('a failed trial after an open period reopens at once, for twice as long, capped', () => {
    const breaker = new CircuitBreaker({ threshold: 2, openMs: 30_000, maxOpenMs: 100_000 });
    breaker.noteUpstreamFailure('a', start);
    let until = breaker.noteUpstreamFailure('a', start) as number;
    expect(until).toBe(start + 30_000);
    until = breaker.noteUpstreamFailure('a', until) as number;
    expect(until).toBe(start + 30_000 + 60_000);
    until = breaker.noteUpstreamFailure('a', until) as number;
    expect(until).toBe(start + 90_000 + 100_000);
  });

  it('dates a run of failures by its first trip, through failed trials, until a success', () => {
    const breaker = new CircuitBreaker({ threshold: 1 });
    expect(breaker.failingSince('a', start)).toBeNull();
    expect(breaker.noteUpstreamFailure('a', start + 5)).toBe(start + 30_005);
    expect(breaker.failingSince('a', start + 5)).toBe(start + 5);
    // Closed for a trial, the trial fails: open again, the same run.
    expect(breaker.circuitOpenUntil('a', start + 30_005)).toBeNull();
    expect(breaker.failingSince('a', start + 30_005)).toBe(start + 5);
    breaker.noteUpstreamFailure('a', start + 30_010);
    expect(breaker.failingSince('a', start + 30_010)).toBe(start + 5);
    breaker.noteSuccess('a');
    expect(breaker.failingSince('a', start + 30_010)).toBeNull();
    breaker.open('a', start + 99_000);
    expect(breaker.failingSince('a', start + 99_000)).toBe(start + 99_000);
  });

  it('ends a run when no trial came for longer than the longest opening', () => {
    const breaker = new CircuitBreaker({ threshold: 1, maxOpenMs: 60_000 });
    const closed = breaker.noteUpstreamFailure('a', start) as number;
    expect(closed).toBe(start + 30_000);
    // Still the run a minute after it closed (a trial may yet come) …
    expect(breaker.failingSince('a', closed + 60_000)).toBe(start);
    // … not after that: the profile got no request, the run is over.
    expect(breaker.failingSince('a', closed + 60_001)).toBeNull();
    // Hours later a failure is the first of a new run: a short opening, a new date.
    const later = start + 3 * 3_600_000;
    expect(breaker.noteUpstreamFailure('a', later)).toBe(later + 30_000);
    expect(breaker.failingSince('a', later)).toBe(later);
    // The same for an opening judged elsewhere.
    const evenLater = later + 3 * 3_600_000;
    expect(breaker.open('a', evenLater)).toBe(evenLater + 30_000);
    expect(breaker.failingSince('a', evenLater)).toBe(evenLater);
  });

  it('failures while open do not extend it', () => {
    const breaker = new CircuitBreaker({ threshold: 1 });
    const until = breaker.noteUpstreamFailure('a', start);
    expect(breaker.noteUpstreamFailure('a', start + 5000)).toBe(until);
  });

  it('a success closes and forgets the history', () => {
    const breaker = new CircuitBreaker({ threshold: 2 });
    breaker.noteUpstreamFailure('a', start);
    breaker.noteUpstreamFailure('a', start);
    breaker.noteSuccess('a');
    expect(breaker.circuitOpenUntil('a', start)).toBeNull();
    expect(breaker.noteUpstreamFailure('a', start + 1)).toBeNull();
  });

  it('moves state on rename and drops it on removal', () => {
    const breaker = new CircuitBreaker({ threshold: 1 });
    breaker.noteUpstreamFailure('a', start);
    breaker.forget('a', 'b');
    expect(breaker.circuitOpenUntil('a', start)).toBeNull();
    expect(breaker.circuitOpenUntil('b', start)).not.toBeNull();
    breaker.forget('b');
    expect(breaker.circuitOpenUntil('b', start)).toBeNull();
  });
});
