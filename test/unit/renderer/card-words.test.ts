import { describe, expect, it } from 'vitest';
import { cardStatusMessage, removalQuestion } from '../../../renderer/format.ts';

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
  it('points at the card’s Sign in again button instead of the command line', () => {
    expect(
      cardStatusMessage(
        'work needs a new sign-in (refresh token revoked): run codex-lab login work.',
        true,
      ),
    ).toBe('work needs a new sign-in (refresh token revoked): use Sign in again below.');
    expect(
      cardStatusMessage(
        'The upstream rejected work 3 times in a row even with fresh tokens; sign in again with: codex-lab login work',
        true,
      ),
    ).toBe(
      'The upstream rejected work 3 times in a row even with fresh tokens: use Sign in again below.',
    );
    expect(
      cardStatusMessage(
        'Profile "work" has no tokens; sign in again with `codex-lab login work`.',
        true,
      ),
    ).toBe('Profile "work" has no tokens: use Sign in again below.');
    // Other statuses, and messages without the hint, are shown as they are.
    expect(cardStatusMessage('Limited: back at 14:05.', false)).toBe('Limited: back at 14:05.');
    expect(cardStatusMessage('The issuer could not be reached.', true)).toBe(
      'The issuer could not be reached.',
    );
  });
});
