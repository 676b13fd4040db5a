/**
 * The accounts' layout: `auto` shows cards while they fit one row of the page (three), the dense
 * list beyond; an explicit choice holds whatever the count; a saved value read back is trusted
 * only when it is one of the choices.
 */
import { describe, expect, it } from 'vitest';
import { accountsViewOf, cardsUpTo, showsList } from '../../../renderer/stores/accounts-view.ts';

describe('accounts view', () => {
  it('shows cards for up to three accounts and the list beyond, under auto', () => {
    expect(cardsUpTo).toBe(3);
    expect([1, 2, 3, 4, 15, 30].map((count) => showsList('auto', count))).toEqual([
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
  });

  it('keeps an explicit choice whatever the count', () => {
    expect(showsList('list', 2)).toBe(true);
    expect(showsList('cards', 30)).toBe(false);
  });

  it('reads back only a known choice', () => {
    expect(accountsViewOf('list')).toBe('list');
    expect(accountsViewOf('cards')).toBe('cards');
    for (const value of [null, '', 'LIST', 'table', 3, {}])
      expect(accountsViewOf(value)).toBe('auto');
  });
});
