/**
 * What the router tells Codex when no profile can take a request (and keeps in the request log
 * for `codex-lab log`): the moments in it worded as people read times, never raw ISO times.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { refreshFailureMessage } from '../../../core/auth/constants.ts';
import { LabError } from '../../../core/errors.ts';
import { noProfilesSentence } from '../../../core/format.ts';
import type { NoPick, ProxyRequestInfo } from '../../../core/proxy/engine.ts';
import { inMemoryEngine } from '../../helpers/in-memory-engine.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';

const time = Date.UTC(2026, 10, 30, 12);
const clock = { now: () => time, setTimeout, clearTimeout } as never;

const turn: ProxyRequestInfo = {
  kind: 'responses',
  method: 'POST',
  path: '/codex/responses',
  // Pinned to profile-0 (a pin is strict): while it cannot serve, nobody else may.
  headers: { 'session-id': 's1', 'x-codex-lab-profile': 'profile-0' },
  body: null,
};

describe('a request no profile can take', () => {
  it('with no profile at all, says so to Codex in the sentence the command line says', async () => {
    const { engine } = await inMemoryEngine({
      home: tempFolder('codex-lab-refusal-'),
      profileCount: 0,
      clock,
    });
    onTestFinished(() => engine.settled());
    const refused = (await engine.prepare({ ...turn, headers: {} }).choose(new Map())) as NoPick;
    expect(refused).toMatchObject({ ok: false, code: 'no_eligible_profile' });
    expect(refused.message).toBe(noProfilesSentence);
  });

  it('says when the pinned profile may serve again as a clock time with a countdown', async () => {
    const { engine } = await inMemoryEngine({
      home: tempFolder('codex-lab-refusal-'),
      profileCount: 2,
      clock,
    });
    onTestFinished(() => engine.settled());
    // Its credentials out of reach for now (not the account's fault): skipped for a while.
    engine.noteCredentialFailure('profile-0', new LabError('refresh_transient', 'issuer busy'));
    const refused = (await engine.prepare(turn).choose(new Map())) as NoPick;
    expect(refused).toMatchObject({ ok: false, status: 503, code: 'no_eligible_profile' });
    expect(refused.message).toMatch(
      /^No profile can take this request right now: .*retry after \d{2}:\d{2} \(in 5s\)/,
    );
    expect(refused.message).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
  });

  it('says once in the activity that a profile needs a new sign-in, however its error words it', async () => {
    const { engine, activity } = await inMemoryEngine({
      home: tempFolder('codex-lab-refusal-'),
      profileCount: 2,
      clock,
    });
    onTestFinished(() => engine.settled());
    engine.noteCredentialFailure(
      'profile-0',
      new LabError(
        'refresh_token_reused',
        refreshFailureMessage('refresh_token_reused', 'profile-0'),
      ),
    );
    engine.noteCredentialFailure(
      'profile-1',
      new LabError('not_signed_in', 'auth.json holds no tokens.'),
    );
    const lines = activity
      .list()
      .filter((entry) => entry.kind === 'auth_error')
      .map((entry) => entry.message);
    expect(lines).toEqual([
      refreshFailureMessage('refresh_token_reused', 'profile-0'),
      'profile-1 needs a new sign-in: auth.json holds no tokens.',
    ]);
  });

  it('says a sign-in may free capacity now when the rest of the pool is limited, not that all are', async () => {
    const { engine } = await inMemoryEngine({
      home: tempFolder('codex-lab-refusal-'),
      profileCount: 3,
      clock,
    });
    onTestFinished(() => engine.settled());
    engine.noteCredentialFailure(
      'profile-0',
      new LabError(
        'refresh_token_reused',
        refreshFailureMessage('refresh_token_reused', 'profile-0'),
      ),
    );
    const hour = 3_600_000;
    engine.markLimited('profile-1', { resetsAt: time + hour, message: 'limit' });
    engine.markLimited('profile-2', { resetsAt: time + 2 * hour, message: 'limit' });
    const unpinned: ProxyRequestInfo = { ...turn, headers: { 'session-id': 's2' } };
    const refused = (await engine.prepare(unpinned).choose(new Map())) as NoPick;
    // Codex shows a 400's text at once and as written; a 429 usage_limit_reached it replaces with
    // its own "You've hit your usage limit", which would hide the sign-in.
    expect(refused).toMatchObject({
      ok: false,
      status: 400,
      code: 'not_signed_in',
      userMustAct: true,
    });
    expect(refused.message).toMatch(
      /^2 of 3 Codex Lab profiles reached the usage limit\. The earliest resets at \d{2}:\d{2} \(in 1h\)\. profile-0 needs a new sign-in, which may give capacity now: run codex-lab login profile-0\.$/,
    );
  });

  it('answers a retryable 503, not the usage limit, while one profile is only briefly out of reach', async () => {
    const { engine } = await inMemoryEngine({
      home: tempFolder('codex-lab-refusal-'),
      profileCount: 3,
      clock,
    });
    onTestFinished(() => engine.settled());
    const hour = 3_600_000;
    engine.markLimited('profile-1', { resetsAt: time + hour, message: 'limit' });
    engine.markLimited('profile-2', { resetsAt: time + 2 * hour, message: 'limit' });
    const unpinned: ProxyRequestInfo = { ...turn, headers: { 'session-id': 's4' } };
    // profile-0 failed this very request (its refresh answered 502, or a 5xx): not limited.
    const refused = (await engine
      .prepare(unpinned)
      .choose(new Map([['profile-0', 'refresh_transient']]))) as NoPick;
    // Codex ends the turn on a 429 usage_limit_reached ("You've hit your usage limit") and
    // retries a 503: its retry reaches profile-0 again.
    expect(refused).toMatchObject({ ok: false, status: 503, code: 'no_eligible_profile' });
  });

  it('counts only the profiles that reached the limit in the pool 429', async () => {
    const { engine } = await inMemoryEngine({
      home: tempFolder('codex-lab-refusal-'),
      profileCount: 2,
      clock,
    });
    onTestFinished(() => engine.settled());
    engine.markLimited('profile-0', { resetsAt: time + 3_600_000, message: 'limit' });
    engine.markLimited('profile-1', { resetsAt: time + 7_200_000, message: 'limit' });
    const unpinned: ProxyRequestInfo = { ...turn, headers: { 'session-id': 's3' } };
    const refused = (await engine.prepare(unpinned).choose(new Map())) as NoPick;
    expect(refused).toMatchObject({ status: 429, code: 'usage_limit_reached' });
    expect(refused.message).toMatch(/^All 2 Codex Lab profiles reached the usage limit\./);
  });
});
