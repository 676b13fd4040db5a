/**
 * What the router tells Codex when no profile can take a request (and keeps in the request log
 * for `codex-lab log`): the moments in it worded as people read times, never raw ISO times.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { refreshFailureMessage } from '../../../core/auth/constants.ts';
import { LabError } from '../../../core/errors.ts';
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
});
