/**
 * How the page shows the accounts: the detailed cards, or a dense list of one row per account
 * (name, state, both windows as thin bars with their reset) that answers "where does my quota
 * stand" for 15 or 30 accounts without scrolling. `auto` picks by how many there are.
 */
import type { AccountsView } from './types.ts';

/**
 * The most accounts `auto` shows as cards: one row of the cards' grid at the page's full width
 * (three columns), where every card's quota is in sight. A fourth card starts a second row, whose
 * bars are below a normal window's fold.
 */
export const cardsUpTo = 3;

/** True when `count` accounts are shown as the dense list under the `view` choice. */
export function showsList(view: AccountsView, count: number): boolean {
  return view === 'list' || (view === 'auto' && count > cardsUpTo);
}

/** A saved choice read back (from storage, which anything may have written): `auto` if unknown. */
export function accountsViewOf(value: unknown): AccountsView {
  return value === 'list' || value === 'cards' ? value : 'auto';
}
