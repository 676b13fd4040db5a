import { describe, expect, it } from 'vitest';
import { TurnStateIssuers } from '../../../core/proxy/turn-states.ts';

const codex = (token?: string) => ({
  'session-id': 's1',
  ...(token === undefined ? {} : { 'x-codex-turn-state': token }),
});

describe('TurnStateIssuers', () => {
  it('leaves a turn state off a request to a profile other than the one it was issued to', () => {
    const issuers = new TurnStateIssuers();
    issuers.note('alpha', { 'x-codex-turn-state': 'ts_a' });
    expect(issuers.headersFor(codex('ts_a'), 'alpha')).toEqual(codex('ts_a'));
    expect(issuers.headersFor(codex('ts_a'), 'beta')).toEqual(codex());
    // A token it never saw (issued before a restart, say) goes as it came; so does no token.
    expect(issuers.headersFor(codex('ts_unknown'), 'beta')).toEqual(codex('ts_unknown'));
    expect(issuers.headersFor(codex(), 'beta')).toEqual(codex());
  });

  it('forgets the oldest token past its bound', () => {
    const issuers = new TurnStateIssuers(2);
    issuers.note('alpha', { 'x-codex-turn-state': 'ts_1' });
    issuers.note('alpha', { 'x-codex-turn-state': 'ts_2' });
    issuers.note('alpha', { 'x-codex-turn-state': 'ts_1' });
    issuers.note('alpha', { 'x-codex-turn-state': 'ts_3' });
    // ts_1 was noted again, so ts_2 was the oldest.
    expect(issuers.headersFor(codex('ts_2'), 'beta')).toEqual(codex('ts_2'));
    expect(issuers.headersFor(codex('ts_1'), 'beta')).toEqual(codex());
    expect(issuers.headersFor(codex('ts_3'), 'beta')).toEqual(codex());
  });
});
