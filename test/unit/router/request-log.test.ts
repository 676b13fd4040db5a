/**
 * The request log's renames (core/router/request-log.ts): every field of a row that names a
 * profile follows a rename, in memory and as the journal's readers apply it.
 */
import { describe, expect, it } from 'vitest';
import {
  RequestLog,
  requestsFromJournal,
  toRequestView,
  withLiveRequests,
  type RequestRecord,
} from '../../../core/router/request-log.ts';
import {
  named as sentence,
  profileRef,
  type NamedText,
} from '../../../core/router/reason-names.ts';

/** A row's reason and where it names profiles, as the router records them. */
const reasonOf = ({ text, names }: NamedText) => ({ reason: text, reasonNames: names });

/** A row with the fields the log keeps, `overrides` on top. */
function row(overrides: Partial<Omit<RequestRecord, 'id'>>): Omit<RequestRecord, 'id'> {
  return {
    at: 1_700_000_000_000,
    sessionId: 'sess-1',
    runId: null,
    profile: null,
    route: null,
    pinned: null,
    reason: '',
    why: null,
    model: 'gpt-5.5',
    kind: 'responses',
    status: 200,
    ttfbMs: 10,
    durationMs: 20,
    tokens: null,
    fallback: [],
    ...overrides,
  };
}

/** A refusal of a session pinned to alice, and a turn pinned to her that went through. */
const pinnedRows = () => [
  row({
    status: 400,
    pinned: 'alice',
    route: null,
    ...reasonOf(
      sentence`Pinned by session pin to ${profileRef('alice')}, which needs a new sign-in.`,
    ),
    fallback: [{ profile: 'alice', reason: 'auth_error' }],
  }),
  row({
    profile: 'alice',
    route: 'pinned',
    pinned: 'alice',
    ...reasonOf(
      sentence`Pinned by session pin; ${profileRef('alice')} is at its limit, which does not matter to a request that spends no quota.`,
    ),
    why: { rule: 'pin', pin: 'session', left: [] },
  }),
  // Another profile whose name starts with hers, in a sentence that also names alice.
  row({
    profile: 'alice2',
    route: 'fallback',
    ...reasonOf(
      sentence`pinned ${profileRef('alice')} is limited, pin allows fallback; ${profileRef('alice2')} has the most room.`,
    ),
    why: { rule: 'best', pin: null, left: [{ profile: 'alice', code: 'limited' }] },
  }),
];

/** The fields of each row that may name a profile. */
const named = (records: readonly RequestRecord[]) =>
  records.map(({ profile, pinned, reason, why, fallback }) => ({
    profile,
    pinned,
    reason,
    left: why?.left.map((entry) => entry.profile) ?? [],
    fallback: fallback.map((entry) => entry.profile),
  }));

const renamed = [
  {
    profile: null,
    pinned: 'al',
    reason: 'Pinned by session pin to al, which needs a new sign-in.',
    left: [],
    fallback: ['al'],
  },
  {
    profile: 'al',
    pinned: 'al',
    reason:
      'Pinned by session pin; al is at its limit, which does not matter to a request that spends no quota.',
    left: [],
    fallback: [],
  },
  {
    profile: 'alice2',
    pinned: null,
    reason: 'pinned al is limited, pin allows fallback; alice2 has the most room.',
    left: ['al'],
    fallback: [],
  },
];

describe('a rename in the request log', () => {
  it('moves every field that names the profile: profile, pin, reason, what was left, fallback', () => {
    const log = new RequestLog(10);
    for (const record of pinnedRows()) log.record(record);
    log.rename('alice', 'al', 1_700_000_001_000);
    expect(named(log.records())).toEqual(renamed);
  });

  it('is applied the same way by the journal’s readers', () => {
    const lines = [
      ...pinnedRows().map((record, index) => ({ type: 'request', id: index + 1, ...record })),
      { type: 'rename', from: 'alice', to: 'al', at: 1_700_000_001_000 },
    ];
    expect(named(requestsFromJournal(lines))).toEqual(renamed);
  });
});

describe('a removal in the request log', () => {
  it('leaves the removed profile’s rows under a name no later profile can take', () => {
    const lines = [
      { type: 'request', id: 1, ...row({ profile: 'carol', route: 'best' }) },
      { type: 'rename', from: 'carol', to: null, at: 1_700_000_001_000 },
      { type: 'rename', from: 'zed2', to: 'carol', at: 1_700_000_002_000 },
      { type: 'request', id: 2, ...row({ profile: 'carol', route: 'best' }) },
    ];
    expect(requestsFromJournal(lines).map((record) => record.profile)).toEqual([
      'carol (removed)',
      'carol',
    ]);
    const log = new RequestLog(10);
    log.record(row({ profile: 'carol', route: 'best' }));
    log.rename('carol', null, 1_700_000_001_000);
    log.rename('zed2', 'carol', 1_700_000_002_000);
    expect(log.list(10, { profile: 'carol' })).toEqual([]);
  });
});

describe("the journal's requests with a running router's", () => {
  it('shows each request once, oldest first, as the router has it now', () => {
    const log = new RequestLog();
    const first = log.record(row({ profile: 'alice', sessionId: 's-1' }));
    const second = log.record(row({ profile: 'alice', sessionId: 's-2' }));
    // The file has the first as written before a rename; the router has both, renamed.
    const written = [{ ...first }];
    log.rename('alice', 'work', 1_700_000_000_500);
    const merged = withLiveRequests(written, log.list());
    expect(merged.map((record) => [record.id, record.sessionId, record.profile])).toEqual([
      [first.id, 's-1', 'work'],
      [second.id, 's-2', 'work'],
    ]);
    expect(merged.map(toRequestView)).toEqual(log.list());
    // Rows the router no longer keeps stay as the file has them.
    expect(withLiveRequests(written, []).map((record) => record.profile)).toEqual(['alice']);
  });
});
