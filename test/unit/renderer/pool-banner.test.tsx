/**
 * The dashboard's pool banner names profiles whose sign-in cannot be read by what is wrong: an
 * auth file that cannot be read, or the OS keychain locked or unavailable.
 */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { poolSummaryOf } from '../../../core/service/pool-view.ts';
import { PoolBanner } from '../../../renderer/components/pool-banner.tsx';
import { uiProfile } from '../../helpers/ui-lab-state.ts';

const now = Date.parse('2030-01-01T12:00:00.000Z');
const locked = (name: string) =>
  uiProfile(name, { status: 'auth_error', statusCode: 'keyring_unavailable' });
const corrupt = (name: string) =>
  uiProfile(name, { status: 'auth_error', statusCode: 'corrupt_file' });
const text = (html: string) => html.replace(/<[^>]+>/g, '');

describe('the pool banner', () => {
  it('says the keychain for a locked keychain and the auth file for a broken file', () => {
    const pool = poolSummaryOf([locked('work'), corrupt('home'), uiProfile('spare')], 'auto', now);
    const shown = text(renderToStaticMarkup(<PoolBanner pool={pool} now={now} />));
    expect(shown).toContain('Keychain unavailable: work');
    expect(shown).toContain('Auth file unreadable: home');
  });

  it('does not call a locked keychain an auth file in the headline', () => {
    const pool = poolSummaryOf([locked('work'), locked('home')], 'auto', now);
    const shown = text(renderToStaticMarkup(<PoolBanner pool={pool} now={now} />));
    expect(shown).toContain('No account can be used: the OS keychain is locked or unavailable.');
    expect(shown).not.toMatch(/auth file/i);
  });
});
