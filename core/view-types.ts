/**
 * The view types every surface shares: what the router, the service and the renderer show about
 * profiles, sessions, decisions, activity and sign-ins, and why a request was routed where it was.
 *
 * A leaf of the core's floor plan (docs/architecture.md): it imports nothing, so every layer —
 * router, proxy, auth, priming, service, the renderer — may import it without forming a cycle.
 * Views hold no secrets: no access, refresh or id token, and no router token, ever.
 */

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
