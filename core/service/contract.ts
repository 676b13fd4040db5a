/**
 * The one typed contract every surface uses: the Electron renderer over IPC (window.codexLab),
 * the web dashboard over the control API (`/lab/v1/`), and the CLI.
 *
 * Views hold no secrets: no access, refresh or id token, and no router token, ever.
 * Times are ISO strings. Inputs are zod schemas so every transport validates the same way.
 * This file imports only zod so the renderer may import it.
 */
import { z } from 'zod';

/** Why a request went to the profile it went to; also the `x-codex-lab-route` header value. */
export type RouteReason = 'pinned' | 'sticky' | 'active' | 'best' | 'fallback';

/** A profile's health as shown everywhere (`list --json` `status`). */
export type ProfileStatus = 'ok' | 'limited' | 'auth_error' | 'unknown';

/** One quota window (`list --json` `quota.primary` / `quota.secondary`). */
export interface QuotaWindowView {
  usedPercent: number;
  windowMinutes: number | null;
  /** ISO time, or null when unknown. */
  resetsAt: string | null;
}

/** A point of the short quota history. */
export interface QuotaPointView {
  at: string;
  primary: number | null;
  secondary: number | null;
}

/** Credits as the account reports them. */
export interface CreditsView {
  hasCredits: boolean;
  unlimited: boolean;
  /** The balance as the upstream wrote it (a decimal string), or null. */
  balance: string | null;
}

/** One additional limit family (its own 5-hour/weekly windows). */
export interface LimitFamilyView {
  id: string;
  name: string | null;
  primary: QuotaWindowView | null;
  secondary: QuotaWindowView | null;
}

/**
 * A weekly window's forecast at the current pace: `runs_out` (at `runsOutAt`, before the reset),
 * `lasts` (fine until the reset), `exhausted` (already at 100 %).
 */
export interface ForecastView {
  outlook: 'runs_out' | 'lasts' | 'exhausted';
  runsOutAt: string | null;
  resetsAt: string | null;
  /** Burn in percent of the window per hour. */
  percentPerHour: number;
  usedPercent: number;
}

/**
 * The pool at a glance (one pure function in the core computes it for every surface): headroom
 * in the tightest window across eligible profiles, the next time a limited profile frees up, who
 * a new unpinned session gets now and why, and the weekly forecast for the whole pool.
 */
export interface PoolSummaryView {
  /** Profiles counted (every profile that does not need a sign-in). */
  counted: number;
  /** Profiles that can take a request now. */
  eligible: string[];
  /** Profiles that need a sign-in (left out of every number). */
  needsSignIn: string[];
  /** Mean headroom (100 − used %) of the counted profiles' tightest windows; null when none. */
  headroomPercent: number | null;
  /** The earliest moment a limited profile frees up, or null when none is limited. */
  nextFree: { profile: string; at: string } | null;
  /** Who a new unpinned session would get now, and why (the router's own chooser). */
  next: { profile: string | null; route: RouteReason | null; detail: string };
  /** The pool's weekly forecast at this week's pace. */
  forecast: {
    outlook: 'runs_out' | 'lasts' | 'exhausted' | 'unknown';
    runsOutAt: string | null;
    /** The earliest weekly reset among the counted profiles. */
    nextResetAt: string | null;
    /** Burn in percent of one account per hour, summed over the pool. */
    percentPerHour: number;
  };
}

/** The outcome of the last priming attempt for a profile. */
export interface PrimingOutcomeView {
  at: string;
  window: 'weekly' | 'five_hour';
  outcome: 'primed' | 'confirmed' | 'failed' | 'skipped' | 'dry_run';
  message: string;
}

/** One profile, as every surface shows it. Field names match `codex-lab list --json`. */
export interface ProfileView {
  name: string;
  label: string | null;
  email: string | null;
  plan: string | null;
  accountId: string | null;
  active: boolean;
  status: ProfileStatus;
  /** One sentence explaining a non-ok status (e.g. Codex's refresh failure text). */
  statusMessage: string | null;
  unavailableUntil: string | null;
  priming: boolean;
  primingLast: PrimingOutcomeView | null;
  quota: {
    primary: QuotaWindowView | null;
    secondary: QuotaWindowView | null;
    updatedAt: string | null;
  };
  history: QuotaPointView[];
  /** The weekly forecast at the current pace, or null when too little is known. */
  forecast: ForecastView | null;
  /** Credits, when the account reports them (absent, not zero, when it does not). */
  credits?: CreditsView;
  /** Additional limit families (e.g. a Spark model's own quota), when the account has any. */
  limits?: LimitFamilyView[];
  store: 'file' | 'keyring';
  createdAt: string;
  lastUsedAt: string | null;
  /** True for the legacy `$CODEX_LAB_HOME/auth.json` used in place as `default`. */
  legacy: boolean;
}

/** One live Codex session the router has seen. */
export interface SessionView {
  id: string;
  profile: string;
  route: RouteReason;
  repo: string | null;
  model: string | null;
  pinned: string | null;
  requests: number;
  startedAt: string;
  lastSeenAt: string;
}

/** A candidate the router did not pick, and why. */
export interface ExcludedCandidateView {
  profile: string;
  reason: string;
}

/** One routing decision, for the activity log. */
export interface DecisionView {
  at: string;
  sessionId: string | null;
  profile: string | null;
  route: RouteReason | null;
  /** Human sentence: "pinned by header", "best: 12% used, weekly resets in 2d"… */
  detail: string;
  excluded: ExcludedCandidateView[];
}

/** Kinds of activity the log shows. */
export type ActivityKind =
  'route' | 'fallback' | 'limited' | 'auth_error' | 'refresh' | 'prime' | 'profile' | 'login';

/** One line of the activity log. */
export interface ActivityEntry {
  id: number;
  at: string;
  kind: ActivityKind;
  profile: string | null;
  message: string;
}

/** A sign-in in progress. */
export interface LoginView {
  id: string;
  state: 'waiting' | 'exchanging' | 'done' | 'failed' | 'cancelled';
  /** The issuer's authorize URL to open (carries no token). */
  authorizeUrl: string;
  proposedName: string | null;
  profile: string | null;
  error: { code: string; message: string } | null;
}

/** The whole picture a surface renders from. */
export interface LabState {
  active: string;
  profiles: ProfileView[];
  sessions: SessionView[];
  decisions: DecisionView[];
  activity: ActivityEntry[];
  logins: LoginView[];
  /** The pool summary (banner, tray's first lines). */
  pool: PoolSummaryView;
  router: { url: string; port: number; running: boolean };
  /** The config.toml block for using the router permanently (no token inside). */
  codexConfig: string;
}

/** An expected failure, as every surface returns it. */
export interface ContractFailure {
  ok: false;
  code: string;
  message: string;
}

/** A result value across a boundary. */
export type ContractResult<T> = { ok: true; value: T } | ContractFailure;

const name = z.string().min(1).max(200);

/** Inputs of every operation, validated identically by IPC handlers and the control API. */
export const inputSchemas = {
  setActive: z.object({ profile: name }),
  renameProfile: z.object({ from: name, to: name }),
  removeProfile: z.object({ profile: name, revoke: z.boolean().default(false) }),
  startLogin: z.object({ name: name.nullable().default(null), popup: z.boolean().default(false) }),
  cancelLogin: z.object({ id: z.string().min(1).max(100) }),
  setPriming: z.object({ profile: name, enabled: z.boolean() }),
  primeNow: z.object({ profile: name, dryRun: z.boolean().default(false) }),
  pinSession: z.object({ sessionId: z.string().min(1).max(200), profile: name.nullable() }),
  pinRepo: z.object({ path: z.string().min(1).max(4096), profile: name.nullable() }),
  refreshUsage: z.object({ profile: name.nullable().default(null) }),
} as const;

/** The input type of each operation. */
export type Inputs = { [K in keyof typeof inputSchemas]: z.input<(typeof inputSchemas)[K]> };

/**
 * The operations every surface offers. The renderer's `window.codexLab` and the web dashboard's
 * bridge both implement this; `subscribe` delivers a fresh `LabState` whenever it changes.
 */
export interface LabApi {
  getState(): Promise<LabState>;
  subscribe(listener: (state: LabState) => void): () => void;
  setActive(input: Inputs['setActive']): Promise<ContractResult<null>>;
  renameProfile(input: Inputs['renameProfile']): Promise<ContractResult<null>>;
  removeProfile(input: Inputs['removeProfile']): Promise<ContractResult<null>>;
  startLogin(input: Inputs['startLogin']): Promise<ContractResult<LoginView>>;
  cancelLogin(input: Inputs['cancelLogin']): Promise<ContractResult<null>>;
  setPriming(input: Inputs['setPriming']): Promise<ContractResult<null>>;
  primeNow(input: Inputs['primeNow']): Promise<ContractResult<PrimingOutcomeView>>;
  pinSession(input: Inputs['pinSession']): Promise<ContractResult<null>>;
  pinRepo(input: Inputs['pinRepo']): Promise<ContractResult<null>>;
  refreshUsage(input: Inputs['refreshUsage']): Promise<ContractResult<null>>;
}

/** Operation names that take input (everything but getState/subscribe). */
export type OperationName = keyof typeof inputSchemas;

/**
 * Control API routes under `/lab/v1/` (same bearer token as the router). Each operation is
 * `POST /lab/v1/<operation>` with the JSON input as body and a `ContractResult` as answer;
 * state is `GET /lab/v1/state`, live updates are `GET /lab/v1/events` (SSE, `event: state`).
 * Read-only views: `GET /lab/v1/profiles`, `/sessions`, `/pins`, `/decisions`, `/priming`.
 */
export const controlApiPrefix = '/lab/v1';
