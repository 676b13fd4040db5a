/**
 * The view types every surface shares: what the router, the service and the renderer show about
 * profiles, sessions, decisions, activity and sign-ins, and why a request was routed where it was.
 *
 * A leaf of the core's floor plan (docs/architecture.md): it imports nothing, so every layer —
 * router, proxy, auth, priming, service, the renderer — may import it without forming a cycle.
 * Views hold no secrets: no access, refresh or id token, and no router token, ever.
 */

/**
 * How often the control API's event stream sends a heartbeat. Shared with every follower of the
 * stream, which takes a stream silent for several beats as a frozen router (`watchStreamSilence`:
 * a stopped process keeps its sockets open, so nothing else would ever tell it).
 */
export const eventsHeartbeatMs = 5_000;

/**
 * How long the event stream may stay silent before its router counts as not answering: four
 * missed heartbeats, so one slow beat under load is not an outage.
 */
export const streamIdleMs = 4 * eventsHeartbeatMs;

/** Timers a silence watch runs on (the core's `Clock` fits; tests pass a fake one). */
export interface SilenceTimers {
  /** Runs `callback` after `delayMs`; returns a function that cancels it. */
  setTimeout(callback: () => void, delayMs: number): () => void;
}

/** The global timers, for a caller that passes none (the page). */
const globalTimers: SilenceTimers = {
  setTimeout(callback, delayMs) {
    const timer = globalThis.setTimeout(callback, delayMs);
    return () => globalThis.clearTimeout(timer);
  },
};

/** A running silence watch: `heard()` on every chunk the stream delivers; `stop()` when done. */
export interface SilenceWatch {
  heard(): void;
  stop(): void;
}

/**
 * The one rule every follower of the event stream uses to notice a frozen router — the web
 * dashboard's bridge and `RemoteLab` (the desktop app attached to a `serve`): a stopped process
 * (Ctrl-Z, `kill -STOP`) keeps its sockets open, so nothing errors or closes and only silence
 * tells. Watching starts now; `onSilent` runs once when nothing has been `heard()` for
 * `streamIdleMs`. Stopped (or fired), it never runs again.
 */
export function watchStreamSilence(
  onSilent: () => void,
  timers: SilenceTimers = globalTimers,
): SilenceWatch {
  let done = false;
  let cancel = (): void => {};
  const arm = () => {
    cancel();
    cancel = timers.setTimeout(() => {
      if (done) return;
      done = true;
      onSilent();
    }, streamIdleMs);
  };
  arm();
  return {
    heard() {
      if (!done) arm();
    },
    stop() {
      done = true;
      cancel();
    },
  };
}

/** Why a request went to the profile it went to; also the `x-codex-lab-route` header value. */
export type RouteReason = 'pinned' | 'sticky' | 'active' | 'best' | 'fallback';

/**
 * The rule that put a turn on its profile: finer than `RouteReason` (whose values the header keeps),
 * so every surface says the reason the router used. `session`: kept on the session's account;
 * `cache`: a new session on the account a recent session of the same repo and model used.
 */
export type RouteRule = 'pin' | 'session' | 'active' | 'cache' | 'best';

/** Why a profile that should have served a turn could not, as a stable code. */
export type LeftCode =
  | 'failed'
  | 'auth_error'
  | 'unreadable_file'
  | 'limited'
  | 'exhausted'
  | 'circuit_open'
  | 'unknown_profile'
  // The session's own profile, removed since its last turn (its name as it was).
  | 'removed';

/** Why a turn went where it went, as the routing decision recorded it (`routeWhyText` words it). */
export interface RouteWhyView {
  rule: RouteRule;
  /** For `pin`: where the pin came from; null otherwise. */
  pin: 'header' | 'session' | 'repo' | null;
  /** The profiles that should have served and did not (the turn is a fallback), and why. */
  left: readonly { profile: string; code: LeftCode }[];
}

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

/** Banked rate-limit resets the account can redeem (`wham/rate-limit-reset-credits`). */
export interface ResetCreditsView {
  /** How many are available (≥ 1). */
  available: number;
  /** When the soonest-expiring one lapses (ISO-8601), or null when the upstream did not say. */
  nextExpiresAt: string | null;
}

/** One additional limit family (its own 5-hour/weekly windows). */
export interface LimitFamilyView {
  id: string;
  name: string | null;
  primary: QuotaWindowView | null;
  secondary: QuotaWindowView | null;
  /**
   * While the profile's mark for this family holds (a 429 for its models, or a read showing it
   * spent; kept in `state/health.json`): when it lifts (ISO). Absent otherwise.
   */
  limitedUntil?: string;
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
  /**
   * The eligible profiles whose quota is not known yet (never read, or read with no window): they
   * can take a session, but nobody can say they have quota left, so they are not called ready.
   */
  unread: string[];
  /** Profiles that need a sign-in (left out of every number). */
  needsSignIn: string[];
  /**
   * Profiles that cannot be used because their auth file cannot be read (left out of every number,
   * and not in `needsSignIn`: a sign-in is not what they need). Surfaces name them apart
   * ("Auth file unreadable: …").
   */
  unreadable: string[];
  /**
   * Those of `unreadable` whose sign-in is in the OS keychain, which is locked or unavailable
   * (`keyring_unavailable`): unlocking it is the fix, not mending a file. Surfaces name them apart
   * ("Keychain unavailable: …"). Absent from a router older than this field.
   */
  keychainUnavailable?: string[];
  /**
   * Mean headroom (100 − used %) of the counted profiles' tightest windows, limited ones at 0 and
   * ones whose quota is not known yet left out; null when no counted profile has a figure.
   */
  headroomPercent: number | null;
  /** The earliest moment a limited profile frees up, or null when none is limited. */
  nextFree: { profile: string; at: string } | null;
  /**
   * Who a new unpinned session would get now, and why (the router's own chooser); `sameRepo` is
   * where one in the repo and model of the most recent session goes instead (that session's
   * account, to share its prompt cache), known only to a running router.
   */
  next: {
    profile: string | null;
    route: RouteReason | null;
    detail: string;
    sameRepo: {
      repo: string | null;
      model: string | null;
      profile: string;
      detail: string;
    } | null;
  };
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

/** What a pin or unpin changed, beyond the state every surface then shows. */
export interface PinResult {
  /** The profile the session or repository was pinned to before, when the pin moved from it. */
  replaced: string | null;
}

/** The outcome of the last priming attempt for a profile. */
export interface PrimingOutcomeView {
  at: string;
  window: 'weekly' | 'five_hour';
  outcome: 'primed' | 'confirmed' | 'failed' | 'skipped' | 'dry_run';
  message: string;
  /** Set on a `skipped` that only says another attempt is under way (nothing recorded for it). */
  underWay?: boolean;
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
  /**
   * The failure code behind a non-ok status when one is known: `corrupt_file` or `io_error` when
   * the profile's auth file cannot be read (shown as "auth file unreadable", not "needs sign-in"),
   * `not_signed_in`, a refresh failure's code, `usage_limit_reached`. Absent otherwise.
   */
  statusCode?: string;
  unavailableUntil: string | null;
  /**
   * While the running router skips the profile for failing (its circuit is open after a run of
   * upstream 5xx or of streams cut mid-turn, or a credentials read just failed): the ISO time it
   * tries the profile again. Taken from the router's
   * own breaker; absent when it is not skipped, and in a view built from the files alone (no
   * router runs).
   */
  skippedUntil?: string;
  /**
   * While the profile's run of upstream failures lasts: the ISO time its circuit first opened in
   * that run. It stays through the moments the circuit closes to try the profile again, so a
   * failed trial (opening it again, for longer) is the same run; absent once a good answer ends
   * the run, or once the circuit has stayed closed longer than its longest opening with no failure
   * (no request came to try it). Unlike `skippedUntil`, present while the circuit is closed.
   */
  failingSince?: string;
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
  /** Reset credits, when the account has any (absent when it has none or when unknown). */
  resetCredits?: ResetCreditsView;
  /** Additional limit families (e.g. a Spark model's own quota), when the account has any. */
  limits?: LimitFamilyView[];
  store: 'file' | 'keyring';
  createdAt: string;
  lastUsedAt: string | null;
  /** True for the legacy `$CODEX_LAB_HOME/auth.json` used in place as `default`. */
  legacy: boolean;
}

/** One stored pin (`codex-lab pins --json`, the dashboard's Pins section). */
export interface PinView {
  kind: 'session' | 'repo';
  /** The session id, or the repository's canonical path. */
  key: string;
  profile: string;
  /** True when an exhausted pinned profile falls over instead of failing. */
  allowFallback: boolean;
  createdAt: string;
}

/** One live Codex session the router has seen. */
export interface SessionView {
  id: string;
  profile: string;
  route: RouteReason;
  /** Why its last turn went to `profile` (the decision's own rule). */
  why: RouteWhyView;
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
  /**
   * Human sentence: "pinned by header", "best: 88% left in its tightest window, weekly resets
   * <ISO time>"… (moments ISO, worded by the surface that shows it: `humanizeTimes`).
   */
  detail: string;
  excluded: ExcludedCandidateView[];
}

/** Kinds of activity the log shows. */
export type ActivityKind =
  | 'route'
  | 'fallback'
  | 'refused'
  | 'limited'
  | 'auth_error'
  | 'refresh'
  | 'prime'
  | 'profile'
  | 'login';

/** Token counts from a response's `response.completed` usage. */
export interface RequestTokensView {
  input: number;
  output: number;
  /** Input tokens served from the prompt cache. */
  cached: number;
  reasoning: number;
}

/**
 * How an answer's stream ended when it did not end as it should: `upstream_cut` (the upstream's
 * stream broke, or stopped before its last event), `upstream_error` (its last event was an error:
 * `response.failed`, `error`), `client_gone` (the client went away before the end). Codex retries
 * or reports each of them, whatever the status said.
 */
export type RequestEnding = 'upstream_cut' | 'upstream_error' | 'client_gone';

/** One routed (or refused) request, for the per-request log. */
export interface RequestView {
  id: number;
  /** When the request arrived. */
  at: string;
  sessionId: string | null;
  /** The `codex-lab codex` run that sent it (its `x-codex-lab-run` header), if any. */
  runId: string | null;
  /** The profile that answered, or null when the request was refused. */
  profile: string | null;
  route: RouteReason | null;
  /**
   * The profile the request was pinned to (header, session or repo pin), whether it answered or
   * the pin is why the request was refused; null when unpinned.
   */
  pinned: string | null;
  /** Why: the routing decision's sentence, or why it was refused. */
  reason: string;
  /**
   * The rule that routed it, as the decision recorded it (`requestRouteText` words it, as the live
   * sessions word theirs); null for a refusal and for a request recorded before it was kept.
   */
  why: RouteWhyView | null;
  model: string | null;
  /** `responses`, `compact`, `usage` or `passthrough`. */
  kind: string;
  /** The HTTP status the client got (499 when it went away first). */
  status: number;
  /**
   * How the answer's stream ended when not as it should (`requestStatusText` words it with the
   * status); null when it ended well, when there was no stream, and for older records.
   */
  ending: RequestEnding | null;
  /** Time to the first byte of the answer, in ms. */
  ttfbMs: number | null;
  durationMs: number;
  /** From `response.completed`; null when the answer carried none. */
  tokens: RequestTokensView | null;
  /** The profiles tried before the one that answered, and why each was left. */
  fallback: ExcludedCandidateView[];
}

/** Requests and tokens of one profile or session over a period. */
export interface UsageTotalView {
  /** The profile name or session id. */
  key: string;
  requests: number;
  input: number;
  output: number;
  cached: number;
}

/** Per-profile and per-session totals for today and this week (local calendar). */
export interface UsageTotalsView {
  today: { profiles: UsageTotalView[]; sessions: UsageTotalView[] };
  week: { profiles: UsageTotalView[]; sessions: UsageTotalView[] };
}

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
  /** `browser`: authorize page and loopback callback; `device`: a code entered on the issuer's page. */
  method: 'browser' | 'device';
  /** The page to open (carries no token): the authorize URL, or the device page. */
  authorizeUrl: string;
  /** The one-time code to enter on the device page (device sign-ins only). */
  userCode: string | null;
  proposedName: string | null;
  profile: string | null;
  /**
   * Once saved: true when the sign-in made `profile` a new profile, false when it renewed the
   * sign-in of the existing profile of that account; null before (and from older routers).
   */
  created?: boolean | null;
  /** The signed-in account's email, once saved. */
  email: string | null;
  error: { code: string; message: string } | null;
}

/** What a router asked to stop (`codex-lab stop`) is still doing before it goes. */
export interface ShutdownView {
  /** Requests to the backend it lets finish (turns Codex is receiving, usage checks). */
  inFlight: number;
  /** How long it gives them at most; 0 when none is in flight. */
  drainMs: number;
}

/** What a router token rotation did (`codex-lab token --rotate`); never the token itself. */
export interface TokenRotationView {
  /** When the old token stops being accepted (ISO), or null when it was refused at once. */
  oldAcceptedUntil: string | null;
}

/**
 * What cures a failure when one action of the user's does. The core's sentence says what is
 * wrong; each surface says how to do this in its own way (the CLI names `codex-lab login NAME`,
 * the dashboard points at the card's "Sign in again"), so no surface tells its user to use
 * another. `sign_in`: sign `profiles` in again. `add_account`: sign in (as `email`, when known)
 * under `name`, listing a profile folder the registry lost (the dashboard's Add account with the
 * name filled, `codex-lab login NAME` on the command line). `retry_sign_in`: a sign-in that ended
 * without a profile, started again the way it was (`codex-lab login NAME` with its method's flag;
 * the dashboard's "Try again"; the browser's page says it for whoever started the sign-in).
 * `rename_folder`: a profile folder the registry lost whose name is not a valid profile name:
 * the user gives the folder a valid one, then signs in under it (as `email`, when known).
 * `see_profiles`: a name no profile has; the user looks at the profiles (`codex-lab list`; the
 * dashboard shows them already, so it adds nothing).
 */
export type FailureFix =
  | { action: 'sign_in'; profiles: string[] }
  | { action: 'add_account'; name: string; email: string | null }
  | { action: 'retry_sign_in'; name: string | null; method: 'browser' | 'device' }
  | { action: 'rename_folder'; folder: string; email: string | null }
  | { action: 'see_profiles' };

/** A file of the home that cannot be read, named so the user can mend or remove it. */
export interface FileProblemView {
  /**
   * `corrupt_file` (does not parse), `io_error` (cannot be read), `keyring_unavailable` (the OS
   * keychain a profile's tokens are in is locked or unavailable) or `unlisted_profile` (a profile
   * folder the registry does not list); a profile with no tokens shows on its card instead.
   */
  code: string;
  /** One sentence naming the file and what is wrong. */
  message: string;
  /** What cures it, when one action does (an unlisted folder: sign in under its name). */
  fix?: FailureFix;
}

/** The whole picture a surface renders from. */
export interface LabState {
  active: string;
  /**
   * Files that cannot be read (the registry, a state file, an auth file, a journal record); every
   * surface shows them, since what they hold is missing from everything else here.
   */
  problems: FileProblemView[];
  profiles: ProfileView[];
  sessions: SessionView[];
  decisions: DecisionView[];
  activity: ActivityEntry[];
  logins: LoginView[];
  /** Stored session and repository pins. */
  pins: PinView[];
  /** The pool summary (banner, tray's first lines). */
  pool: PoolSummaryView;
  /** The newest routed requests, oldest first. */
  requests: RequestView[];
  /** Requests and tokens per profile and per session, today and this week. */
  totals: UsageTotalsView;
  /**
   * Where the router listens. `running` while it listens; `stopping` too from the moment it was
   * asked to stop (`codex-lab stop`, Ctrl-C or SIGTERM on `serve`, the app quitting) until it has
   * closed: it takes no new turn then, and lets the ones in flight finish.
   */
  router: { url: string; port: number; running: boolean; stopping: boolean };
  /** The config.toml block for using the router permanently (no token inside). */
  codexConfig: string;
}

const noneLeft: RouteWhyView['left'] = Object.freeze([]) as RouteWhyView['left'];
const whyByRoute: Record<RouteReason, RouteWhyView> = {
  pinned: Object.freeze({ rule: 'pin', pin: null, left: noneLeft }),
  sticky: Object.freeze({ rule: 'session', pin: null, left: noneLeft }),
  active: Object.freeze({ rule: 'active', pin: null, left: noneLeft }),
  best: Object.freeze({ rule: 'best', pin: null, left: noneLeft }),
  fallback: Object.freeze({ rule: 'best', pin: null, left: noneLeft }),
};

/**
 * The reason a route stands for when nothing finer was recorded (a request-log record from before
 * the rule was kept): the header's value read as its rule.
 */
export function whyOfRoute(route: RouteReason): RouteWhyView {
  return whyByRoute[route];
}

type Next = PoolSummaryView['next'];

/** A state as older routers send it: the fields added since may be missing. */
type ReceivedState = Omit<LabState, 'problems' | 'pool' | 'requests' | 'sessions' | 'router'> & {
  router: Omit<LabState['router'], 'stopping'> & { stopping?: boolean };
  sessions: Array<Omit<SessionView, 'why'> & { why?: RouteWhyView }>;
  problems?: LabState['problems'];
  pool: Omit<PoolSummaryView, 'unread' | 'unreadable' | 'next'> & {
    unread?: string[];
    unreadable?: string[];
    next: Omit<Next, 'sameRepo'> & { sameRepo?: Next['sameRepo'] };
  };
  requests: ReceivedRequest[];
};

/** A request as older routers send it: the fields added since may be missing. */
type ReceivedRequest = Omit<RequestView, 'pinned' | 'why' | 'ending'> & {
  pinned?: string | null;
  why?: RouteWhyView | null;
  ending?: RequestEnding | null;
};

/**
 * The state in a router's answer (`body`), possibly an older router's (the desktop app or a newer
 * dashboard attached to a `serve` started before an upgrade): every field added since is filled
 * with its empty value here, where a client decodes the state, so no surface reads one unguarded
 * or guards it itself.
 */
export function decodeLabState(body: unknown): LabState {
  const state = body as ReceivedState;
  return {
    ...state,
    problems: state.problems ?? [],
    router: { ...state.router, stopping: state.router.stopping ?? false },
    pool: {
      ...state.pool,
      unread: state.pool.unread ?? [],
      unreadable: state.pool.unreadable ?? [],
      keychainUnavailable: state.pool.keychainUnavailable ?? [],
      next: { ...state.pool.next, sameRepo: state.pool.next.sameRepo ?? null },
    },
    sessions: state.sessions.map((session) => ({
      ...session,
      why: session.why ?? whyOfRoute(session.route),
    })),
    requests: state.requests.map(decodeRequestView),
  };
}

/**
 * One request of the per-request log as a router sends it (in its state, or from
 * `GET /lab/v1/requests`), with what an older router leaves out filled in.
 */
export function decodeRequestView(request: ReceivedRequest): RequestView {
  return {
    ...request,
    pinned: request.pinned ?? null,
    why: request.why ?? null,
    ending: request.ending ?? null,
  };
}

/**
 * Today's answer for each operation whose answer has grown since an older router's, which
 * answered it `null` once done: the pin had replaced nothing it says, the refresh read every
 * account it could (it failed otherwise), and the stop had nothing to let finish.
 */
const answersOfOlderRouters: Readonly<Record<string, () => unknown>> = {
  pinSession: (): PinResult => ({ replaced: null }),
  pinRepo: (): PinResult => ({ replaced: null }),
  refreshUsage: (): UsageRefreshView => ({ refreshed: [], unread: [] }),
  shutdown: (): ShutdownView => ({ inFlight: 0, drainMs: 0 }),
};

/**
 * An operation's result as a router sends it (`POST /lab/v1/<operation>`), possibly an older
 * router's: a `null` answer to an operation whose answer has grown since is taken as today's
 * (`answersOfOlderRouters`), where a client decodes it, as `decodeLabState` does for the state.
 */
export function decodeOperationResult<T>(
  operation: string,
  result: ContractResult<T>,
): ContractResult<T> {
  const older = Object.hasOwn(answersOfOlderRouters, operation)
    ? answersOfOlderRouters[operation]
    : undefined;
  if (!result.ok || result.value !== null || older === undefined) return result;
  return { ok: true, value: older() as T };
}

/** An expected failure, as every surface returns it. */
export interface ContractFailure {
  ok: false;
  code: string;
  /** What is wrong, in one sentence; how to fix it is in `fix`, for each surface to say. */
  message: string;
  /** What cures it, when one action does (e.g. sign a profile in again). */
  fix?: FailureFix;
}

/** A result value across a boundary. */
export type ContractResult<T> = { ok: true; value: T } | ContractFailure;

/** A profile whose quota a refresh could not read, with its own failure. */
export type UnreadProfileView = ContractFailure & { profile: string };

/**
 * How a quota refresh (`refreshUsage`) ended, account by account. An account that cannot be read
 * because of the state it is in (it needs a sign-in; its auth file or keychain cannot be read) is
 * in `unread` with that state's one sentence, and is no failure of the refresh: its status says
 * it on every surface. A read that failed for another reason (the network, the upstream) fails
 * the refresh as a whole.
 */
export interface UsageRefreshView {
  /** The profiles whose quota was read just now, in the registry's order. */
  refreshed: string[];
  /** The profiles that could not be read, each once, in the registry's order. */
  unread: UnreadProfileView[];
}
