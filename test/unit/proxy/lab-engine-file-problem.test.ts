/**
 * A profile whose auth file cannot be read (it does not parse, or the disk refuses it): a local
 * problem only the user can mend, so the refusal names the file and is answered at once (a 400
 * Codex does not retry), never worded as an upstream failure or a sign-in, and never a pause that
 * outlives the file being put back.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { LabError } from '../../../core/errors.ts';
import type { NoPick, ProfilePick, ProxyRequestInfo } from '../../../core/proxy/engine.ts';
import { inMemoryEngine } from '../../helpers/in-memory-engine.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';

const time = Date.UTC(2026, 10, 30, 12);
const clock = { now: () => time, setTimeout, clearTimeout } as never;
const path = '/home/someone/.codex-lab/auth-profiles/profile-0/auth.json';
// As the reader of tokens marks it (`tokensFileError`): the auth file's own failure.
const corrupt = new LabError(
  'corrupt_file',
  `${path} is not valid JSON. It was left untouched: fix or move it, then try again.`,
  { details: { path, tokens: true } },
);

function turnFor(headers: Record<string, string>): ProxyRequestInfo {
  return { kind: 'responses', method: 'POST', path: '/codex/responses', headers, body: null };
}

const pinned = turnFor({ 'session-id': 's1', 'x-codex-lab-profile': 'profile-0' });

async function engineOf(profileCount: number) {
  const built = await inMemoryEngine({
    home: tempFolder('codex-lab-file-problem-'),
    profileCount,
    clock,
  });
  onTestFinished(() => built.engine.settled());
  return built;
}

describe('a profile whose auth file cannot be read', () => {
  it('refuses a turn pinned to it with a 400 that names the file, not an upstream failure', async () => {
    const { engine } = await engineOf(2);
    engine.noteCredentialFailure('profile-0', corrupt);
    const refused = (await engine
      .prepare(pinned)
      .choose(new Map([['profile-0', 'corrupt_file']]))) as NoPick;
    expect(refused).toMatchObject({
      ok: false,
      status: 400,
      code: 'corrupt_file',
      userMustAct: true,
    });
    expect(refused.message).toContain(`${path} is not valid JSON`);
    expect(refused.message).toContain('profile-0');
    expect(refused.message).not.toMatch(/failing upstream|failed on this request|sign-in/);
  });

  it('sets no pause: the next turn tries the profile again (the file may be back)', async () => {
    const { engine } = await engineOf(2);
    engine.noteCredentialFailure('profile-0', corrupt);
    const next = (await engine.prepare(pinned).choose(new Map())) as ProfilePick;
    expect(next).toMatchObject({ ok: true, profile: 'profile-0' });
    expect(engine.health('profile-0').status).not.toBe('auth_error');
  });

  it('refuses an unpinned turn with a 400 naming the file when the only profile has it', async () => {
    const { engine } = await engineOf(1);
    engine.noteCredentialFailure('profile-0', corrupt);
    const refused = (await engine
      .prepare(turnFor({ 'session-id': 's2' }))
      .choose(new Map([['profile-0', 'corrupt_file']]))) as NoPick;
    expect(refused).toMatchObject({ status: 400, code: 'corrupt_file', userMustAct: true });
    expect(refused.message).toContain(`${path} is not valid JSON`);
  });

  it('forgets the problem once the credentials read again', async () => {
    const { engine } = await engineOf(2);
    engine.noteCredentialFailure('profile-0', corrupt);
    await engine.credentials('profile-0');
    // Failed on this request for another reason (say a dropped connection): no stale file words.
    const refused = (await engine
      .prepare(pinned)
      .choose(new Map([['profile-0', 'transport_error']]))) as NoPick;
    expect(refused.message).not.toContain(path);
  });
});
