import { describe, expect, it } from 'vitest';
import {
  cardStatusMessage,
  fixPointer,
  problemFixText,
  removalQuestion,
  signInFixes,
} from '../../../renderer/format.ts';

describe('removalQuestion', () => {
  it('names what a removal takes with it: pins, and Auto for the active profile', () => {
    expect(removalQuestion('work', 0, false)).toBe('Remove work? Other profiles stay.');
    expect(removalQuestion('work', 1, false)).toBe(
      'Remove work? Its 1 pin goes; other profiles stay.',
    );
    expect(removalQuestion('work', 3, true)).toBe(
      'Remove work? Its 3 pins go and new sessions go back to Auto; other profiles stay.',
    );
  });
});

describe('cardStatusMessage', () => {
  const now = Date.parse('2030-01-01T12:00:00.000Z');
  it('adds the card’s own fix, the Sign in again button, to what the core says is wrong', () => {
    expect(
      cardStatusMessage('work needs a new sign-in (its refresh token was revoked).', true, now),
    ).toBe('work needs a new sign-in (its refresh token was revoked). Use Sign in again below.');
    // Other statuses are shown as they are, their moments worded as of now.
    expect(cardStatusMessage('The issuer could not be reached.', false, now)).toBe(
      'The issuer could not be reached.',
    );
    expect(cardStatusMessage('Limited until 2030-01-01T14:05:00.000Z.', false, now)).toMatch(
      /^Limited until \d\d:05 \(in 2h 5m\)\.$/,
    );
  });
});

describe('signInFixes', () => {
  const now = Date.parse('2030-01-01T12:00:00.000Z');
  it('offers a sign-in for a profile that needs one, never for one whose auth file cannot be read', () => {
    expect(signInFixes({ status: 'auth_error', statusCode: 'refresh_token_invalidated' })).toBe(
      true,
    );
    expect(signInFixes({ status: 'auth_error' })).toBe(true);
    const broken = { status: 'auth_error', statusCode: 'corrupt_file' } as const;
    expect(signInFixes(broken)).toBe(false);
    expect(signInFixes({ status: 'auth_error', statusCode: 'io_error' })).toBe(false);
    expect(signInFixes({ status: 'limited' })).toBe(false);
    const said = '/home/a/auth-profiles/work/auth.json is not valid JSON. Fix or move it.';
    expect(cardStatusMessage(said, signInFixes(broken), now)).toBe(said);
  });
});

describe('fixPointer', () => {
  it('points at the page’s own control, never at a command', () => {
    expect(fixPointer({ action: 'sign_in', profiles: ['work'] })).toBe(
      'Use “Sign in again” on the work card.',
    );
    expect(fixPointer({ action: 'sign_in', profiles: ['a', 'b', 'c'] })).toBe(
      'Use “Sign in again” on the a, b and c cards.',
    );
    expect(fixPointer(undefined)).toBeNull();
  });
});

describe('problemFixText', () => {
  it('says how the page lists a folder with an invalid name again, naming no command', () => {
    const text = problemFixText({ action: 'rename_folder', folder: 'Bad Name', email: 'a@b.c' });
    expect(text).toBe(
      'To list it again, give the folder a valid name, then use Add account with that name and sign in as a@b.c.',
    );
    expect(text).not.toMatch(/codex-lab/);
  });

  it('says nothing for a fix the page shows as its own control, or where the list is on the page', () => {
    expect(problemFixText({ action: 'see_profiles' })).toBeNull();
    expect(problemFixText({ action: 'add_account', name: 'work', email: null })).toBeNull();
    expect(problemFixText(undefined)).toBeNull();
  });
});
