import { describe, expect, it } from 'vitest';
import { unavailableWarning } from '../../../core/format.ts';
import { uiProfile } from '../../helpers/ui-lab-state.ts';

const now = Date.parse('2030-01-01T12:00:00Z');
const path = '/home/u/.codex-lab/auth-profiles/solo/auth.json';

describe('unavailableWarning', () => {
  it('names an auth file that cannot be read, with its sentence, never a sign-in', () => {
    const view = uiProfile('solo', {
      status: 'auth_error',
      statusCode: 'corrupt_file',
      statusMessage: `${path} is not valid JSON. It was left untouched: fix or move it, then try again.`,
    });
    const warning = unavailableWarning(view, { codex: 'flag' }, now);
    expect(warning).toBe(
      `solo cannot be used: ${path} is not valid JSON. It was left untouched: fix or move it, then try again. Until then Codex gets refusals naming the file; run without --profile to let the router choose another profile.`,
    );
    expect(unavailableWarning(view, 'active', now)).not.toContain('sign-in');
  });

  it('names a locked keychain, never a file or a sign-in', () => {
    const sentence =
      "The OS keychain is locked or unavailable (no answer within 10 s), so vault's sign-in cannot be read: unlock the keychain (Codex Lab tries it again within 15 s).";
    const view = uiProfile('vault', {
      status: 'auth_error',
      statusCode: 'keyring_unavailable',
      statusMessage: sentence,
    });
    expect(unavailableWarning(view, 'pin', now)).toBe(
      `vault cannot be used: ${sentence} Until then sessions pinned to it are refused, naming the keychain.`,
    );
  });

  it('still sends a profile that needs a sign-in to login', () => {
    const view = uiProfile('work', { status: 'auth_error', statusCode: 'refresh_token_revoked' });
    expect(unavailableWarning(view, { codex: 'flag' }, now)).toContain('work needs sign-in (run');
  });

  it('names where a Codex run’s pin came from, so the way out is one the user can take', () => {
    const limited = uiProfile('work', {
      status: 'limited',
      unavailableUntil: new Date(now + 3600_000).toISOString(),
    });
    const signIn = uiProfile('work', { status: 'auth_error', statusCode: 'refresh_token_revoked' });
    const unreadable = uiProfile('work', { status: 'auth_error', statusCode: 'corrupt_file' });
    for (const view of [limited, signIn, unreadable]) {
      const flag = unavailableWarning(view, { codex: 'flag' }, now);
      expect(flag).toContain('run without --profile to let the router choose');
      const shell = unavailableWarning(view, { codex: 'environment' }, now);
      expect(shell).toContain('unset CODEX_LAB_PROFILE to let the router choose');
      expect(shell).not.toContain('--profile');
    }
  });

  it('words it for the page without the CLI’s commands and flags', () => {
    const signIn = uiProfile('work', { status: 'auth_error', statusCode: 'refresh_token_revoked' });
    expect(unavailableWarning(signIn, 'pin', now, 'page')).toBe(
      'work needs sign-in (Sign in again on its card): until then sessions pinned to it get sign-in errors.',
    );
    const limited = uiProfile('work', {
      status: 'limited',
      unavailableUntil: new Date(now + 3600_000).toISOString(),
    });
    expect(unavailableWarning(limited, 'pin', now, 'page')).toMatch(
      /^work is limited, back in 1h, at \d\d:\d\d: sessions pinned to it get usage-limit errors until then\.$/,
    );
    expect(unavailableWarning(limited, 'pin', now)).toContain('--allow-fallback');
  });
});
