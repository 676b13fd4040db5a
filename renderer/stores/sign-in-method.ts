/**
 * The Add account flow's method and the desktop app's sign-in preference are one choice: this
 * turns the preference into the flow's fields, so the dialog, the settings section and the tray
 * agree.
 */
import type { SignInMethod } from '../../electron/ipc/desktop-contract.ts';
import type { SignInFlow } from './types.ts';

/** The flow's fields for a sign-in method. */
export function signInFlowOf(method: SignInMethod): Pick<SignInFlow, 'popup' | 'device'> {
  return { popup: method === 'popup', device: method === 'device' };
}
