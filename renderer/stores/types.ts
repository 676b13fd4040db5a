/**
 * The settings page's store shape: `LabStoreState` mirrors main's `LabState` plus page-only
 * facts; `LabStoreActions` are the only way components change anything.
 */
import type {
  ContractResult,
  FailureFix,
  LabApi,
  LabState,
  LoginView,
} from '../../core/service/contract.ts';
import type { DesktopApi, SignInMethod } from '../../electron/ipc/desktop-contract.ts';

/** Colour theme choice; `system` follows prefers-color-scheme. */
export type ThemeChoice = 'system' | 'light' | 'dark';

/** How the accounts are shown: cards, the dense list, or `auto` (by their number, `accounts-view.ts`). */
export type AccountsView = 'auto' | 'list' | 'cards';

/**
 * A short message shown at the top of the page (e.g. a failed rename). It is about something, and
 * goes when that changes: `scope` names the action it came from (the same action working later
 * clears it), and `fix` the profiles whose sign-in it needs (signing them in again clears it).
 */
export interface Notice {
  tone: 'error' | 'success' | 'info';
  text: string;
  /** The failure's contract code, for an error from an operation. */
  code?: string;
  /** What the notice is about: the label of the action that failed. */
  scope?: string;
  /** What cures the failure, when one action of the user's does (the page points at its control). */
  fix?: FailureFix;
}

/** The Add account flow, as the page tracks it. */
export interface SignInFlow {
  open: boolean;
  name: string;
  popup: boolean;
  /** Sign in with a one-time code on the issuer's page (a browser on another machine). */
  device: boolean;
  /** The profile being signed in again (the dialog is titled for it), or null to add one. */
  reauth: string | null;
  /** The login in progress (its live state comes from `LabState.logins`). */
  loginId: string | null;
  /**
   * The login as the last state that listed it showed it: the service drops a finished login
   * from its list after a while, and a restarted service has none of the old ones.
   */
  lastSeen: LoginView | null;
  /** True once a state from the service has listed the login. */
  seen: boolean;
  /**
   * True once a state from the service no longer lists the login (after one that did, or after
   * the page lost the service): it will never progress, and the dialog says so.
   */
  gone: boolean;
  /** A failure before the service answered with a login. */
  error: string | null;
  /** Why the typed name cannot be used (shown under the name field; cleared on editing it). */
  nameError: string | null;
  /**
   * True while the request that starts the login is on its way: Continue is disabled and a
   * repeat (a double click) ignored, since each start opens a page and supersedes the last.
   */
  starting: boolean;
}

/** Everything the page renders from. */
export interface LabStoreState {
  /** The last state from main (null until the first answer). */
  lab: LabState | null;
  connection: 'connecting' | 'live' | 'offline';
  connectionError: string | null;
  /**
   * How many times the page has come back after being offline: a failure that was only the outage
   * (`outageFailure`), seen at an earlier count, is over.
   */
  reconnects: number;
  theme: ThemeChoice;
  /** The accounts' layout the user chose (remembered like the theme). */
  accountsView: AccountsView;
  /**
   * The card keys (`cardKeys`) of the accounts whose full card is open under the dense list; a
   * key, not a name, so a card stays open across a rename.
   */
  openCards: string[];
  /** The current time, ticked every second so countdowns move. */
  now: number;
  notice: Notice | null;
  signIn: SignInFlow;
  /** Who hosts the page: the Electron preload or the web bridge. */
  host: 'electron' | 'web';
  /**
   * Each listed profile's card key, kept across a rename so the card (its focus, an open form
   * or confirmation) stays the same element (`renames.ts`).
   */
  cardKeys: Record<string, string>;
  /** Each name renamed away while the page was open → the profile's current name. */
  renamedTo: Record<string, string>;
}

/** Operations a component may run. */
export interface LabStoreActions {
  /**
   * Installs the API the actions call (done once by `initializeStoreSubscriptions`), and in the
   * desktop app its own channels (the sign-in preference).
   */
  attach(api: LabApi, host: LabStoreState['host'], desktop?: DesktopApi | null): void;
  /** Replaces the mirrored state with a fresh one from main. */
  receive(lab: LabState): void;
  setConnection(connection: LabStoreState['connection'], error?: string | null): void;
  setTheme(theme: ThemeChoice): void;
  setAccountsView(view: AccountsView): void;
  /** Opens or closes one account's full card under the dense list (by its card key). */
  setCardOpen(key: string, open: boolean): void;
  tick(now: number): void;
  showNotice(notice: Notice | null): void;
  /**
   * Runs one operation; a failure becomes an error notice about `label`, which the same action
   * working later clears. Returns the result either way.
   */
  run<T>(
    label: string,
    operation: (api: LabApi) => Promise<ContractResult<T>>,
  ): Promise<ContractResult<T>>;
  /**
   * Runs one operation whose failure its caller shows next to the field that caused it (an
   * inline form): no page notice. Returns the result either way.
   */
  attempt<T>(operation: (api: LabApi) => Promise<ContractResult<T>>): Promise<ContractResult<T>>;
  openSignIn(): void;
  updateSignIn(patch: Partial<SignInFlow>): void;
  /**
   * The user picked how Add account signs in: the flow takes it, and in the desktop app it is
   * written back as the one sign-in preference (the tray's and the settings section's).
   */
  chooseSignInMethod(method: SignInMethod): void;
  /** Starts the sign-in with the flow's name and method. */
  startSignIn(): Promise<void>;
  /** Finishes the login in progress with a pasted callback address; false (and an error) if refused. */
  completeSignIn(callbackUrl: string): Promise<boolean>;
  /** Cancels the login in progress and closes the flow. */
  cancelSignIn(): Promise<void>;
  closeSignIn(): void;
}

/** The whole store. */
export type LabStore = LabStoreState & LabStoreActions;

/** The live view of the flow's login, if any. */
export type ActiveLogin = LoginView | null;
