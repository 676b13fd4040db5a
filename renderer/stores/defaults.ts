/**
 * Initial store values, in one place so a test or a reset starts from the same page state.
 */
import type { LabStoreState, SignInFlow } from './types.ts';

/** A closed Add account flow. */
export const defaultSignInFlow: SignInFlow = {
  open: false,
  name: '',
  // The system browser by default (RFC 8252): Google, Microsoft, Apple and company sign-in work
  // there; the desktop app replaces this with the user's preference.
  popup: false,
  device: false,
  reauth: null,
  loginId: null,
  lastSeen: null,
  seen: false,
  gone: false,
  error: null,
  nameError: null,
  starting: false,
};

/** The page before main has answered. */
export const defaultLabStoreState: LabStoreState = {
  lab: null,
  connection: 'connecting',
  connectionError: null,
  reconnects: 0,
  theme: 'system',
  accountsView: 'auto',
  openCards: [],
  now: Date.now(),
  notice: null,
  signIn: defaultSignInFlow,
  host: 'web',
  cardKeys: {},
  renamedTo: {},
};
