/**
 * The pool in words when profiles cannot be used because their auth files cannot be read: named
 * as that, apart from the profiles that need a sign-in, never told to sign in.
 */
import { describe, expect, it } from 'vitest';
import { poolSummaryOf } from '../../../core/service/pool-view.ts';
import { describePool } from '../../../core/service/quota-text.ts';
import { uiProfile } from '../../helpers/ui-lab-state.ts';

const now = Date.parse('2030-01-01T12:00:00.000Z');
const unreadable = (name: string) =>
  uiProfile(name, {
    status: 'auth_error',
    statusCode: 'corrupt_file',
    statusMessage: `/home/a/auth-profiles/${name}/auth.json is not valid JSON.`,
  });
const signedOut = (name: string) =>
  uiProfile(name, { status: 'auth_error', statusCode: 'refresh_token_invalidated' });

describe('the pool with unreadable auth files', () => {
  it('names them apart from the profiles that need a sign-in', () => {
    const pool = poolSummaryOf(
      [unreadable('work'), signedOut('home'), uiProfile('spare')],
      'auto',
      now,
    );
    const text = describePool(pool, { now, timeZone: 'UTC' });
    expect(text.lines).toContain('Needs sign-in: home');
    expect(text.lines).toContain('Auth file unreadable: work');
  });

  it('does not say every account needs a sign-in when their files cannot be read', () => {
    const pool = poolSummaryOf([unreadable('work'), unreadable('home')], 'auto', now);
    const text = describePool(pool, { now, timeZone: 'UTC' });
    expect(text.headline).toBe('No account can be used: their auth files cannot be read');
    expect([text.headline, ...text.lines].join('\n')).not.toMatch(/sign-in/);
  });

  it('says a locked OS keychain is the keychain, not an auth file', () => {
    const locked = (name: string) =>
      uiProfile(name, {
        status: 'auth_error',
        statusCode: 'keyring_unavailable',
        statusMessage: 'The OS keychain is locked.',
      });
    const mixed = poolSummaryOf(
      [locked('work'), unreadable('home'), uiProfile('spare')],
      'auto',
      now,
    );
    expect(mixed.keychainUnavailable).toEqual(['work']);
    const lines = describePool(mixed, { now, timeZone: 'UTC' }).lines;
    expect(lines).toContain('Keychain unavailable: work');
    expect(lines).toContain('Auth file unreadable: home');

    const onlyLocked = poolSummaryOf([locked('work'), locked('home')], 'auto', now);
    const text = describePool(onlyLocked, { now, timeZone: 'UTC' });
    expect(text.headline).toBe('No account can be used: the OS keychain is locked or unavailable');
    expect([text.headline, ...text.lines].join('\n')).not.toMatch(/auth file|sign-in/i);
  });
});
