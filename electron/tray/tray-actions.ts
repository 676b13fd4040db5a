/**
 * What a tray click does, as a pure module (no Electron import: tested under Node): main passes
 * the effects. A tray action that fails is never silent: the failure is shown (main: a message
 * box) with the tray's own way out, and the menu is drawn again from state, because Electron's
 * menu still shows the click (a radio item moved) when the state did not change.
 */
import { withoutSentenceEnd } from '../../core/format.ts';
import type { LabApi } from '../../core/service/contract.ts';
import type { ContractFailure, ContractResult } from '../../core/view-types.ts';
import type { UserPreferences } from '../ipc/desktop-contract.ts';
import { autoProfile, type TrayAction } from './tray-menu.ts';

/** What the tray's actions act on; main wires each to the real thing. */
export interface TrayActionEffects {
  lab: Pick<LabApi, 'setActive' | 'setPriming'>;
  openSettings(): void;
  /** Opens the settings window on one profile's card (its Sign in again, what to mend). */
  openProfile(profile: string): void;
  /**
   * Opens the settings window with its Add account dialog: the page runs the sign-in (the
   * preferred method, a name, the device code) and shows why it could not start.
   */
  openAddAccount(): void;
  /** Opens the web dashboard in the system browser; false when there is none to open. */
  openDashboard(): Promise<boolean>;
  updatePreferences(patch: Partial<UserPreferences>): ContractResult<unknown>;
  quit(): void;
  /** Shows a failure: `title` says what did not happen, `message` why and what to do. */
  showFailure(title: string, message: string): void;
  /** Draws the menu again from the last state. */
  redraw(): void;
}

/**
 * A failure's sentence as the tray says it: the core's sentence names no way out, so a router that
 * stopped answering mid-change gets the tray's (the change was made fully or not at all).
 */
export function trayFailureMessage(failure: ContractFailure): string {
  if (failure.code !== 'router_unavailable') return failure.message;
  const said = withoutSentenceEnd(failure.message);
  return `${said}. Look at the tray menu once Codex Lab answers again, and try again if it did not change.`;
}

/** Runs one tray action; resolves once it is done (or its failure shown). */
export async function runTrayAction(action: TrayAction, effects: TrayActionEffects): Promise<void> {
  const failed = (title: string, message: string) => {
    effects.showFailure(title, message);
    effects.redraw();
  };
  switch (action.kind) {
    case 'use': {
      const result = await effects.lab.setActive({ profile: action.profile });
      if (!result.ok) {
        const to = action.profile === autoProfile ? 'Auto' : action.profile;
        failed(`Codex Lab could not switch to ${to}`, trayFailureMessage(result));
      }
      return;
    }
    case 'add-account':
      effects.openAddAccount();
      return;
    case 'settings':
      effects.openSettings();
      return;
    case 'show-profile':
      effects.openProfile(action.profile);
      return;
    case 'priming': {
      const result = await effects.lab.setPriming({
        profile: action.profile,
        enabled: action.enabled,
      });
      if (!result.ok) {
        const turn = action.enabled ? 'on' : 'off';
        failed(
          `Codex Lab could not turn priming ${turn} for ${action.profile}`,
          trayFailureMessage(result),
        );
      }
      return;
    }
    case 'dashboard':
      if (!(await effects.openDashboard())) {
        failed(
          'The dashboard could not be opened',
          'Codex Lab has no router to show yet. Open Settings… instead.',
        );
      }
      return;
    case 'preferences': {
      const result = effects.updatePreferences(action.patch);
      if (!result.ok) failed('The preference could not be changed', result.message);
      return;
    }
    case 'quit':
      effects.quit();
      return;
  }
}
