/**
 * The real proxy engine: routing policy over the registry (pins, active profile), live health,
 * quota and the session table, with every input cached in memory so the hot path reads no file.
 * The registry and health files are re-read only when their mtime changes (checked at most every
 * `reloadIntervalMs`), so a `codex-lab pin` or `use` from another process takes effect quickly.
 *
 * Order (DESIGN.md section 4): explicit pin (header, session, repo) → the session's current
 * profile → the active profile → the repo/model bucket's profile → the best eligible profile.
 */
import { stat } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import {
  curedByTokensOnDisk,
  needsSignInAgain,
  refreshFailureReasons,
  signInMarkLifted,
} from '../auth/constants.ts';
import { failedFile, isLabError, LabError, signInAgainError, type ErrorCode } from '../errors.ts';
import {
  humanizeTimes,
  noProfilesSentence,
  roomAgainText,
  signInCommand,
  unreadableFile,
  unreadableTokens,
} from '../format.ts';
import type { LabPaths } from '../home/paths.ts';
import {
  PendingWork,
  type ActivityRecorder,
  type Cancel,
  type Clock,
  type Logger,
} from '../ports.ts';
import { accountStamps, stampMatches, type AccountIdentity } from '../profiles/account-stamp.ts';
import { repoPathCovers } from '../profiles/repo-path.ts';
import { isAutoName, matchProfileName } from '../profiles/names.ts';
import { readAuthFile } from '../profiles/auth-file.ts';
import { heldByAnotherAccount } from '../auth/account-check.ts';
import { keychainProfileUnreadable } from '../profiles/keyring.ts';
import { lastUseIntervalMs, type Pin, type Registry } from '../profiles/schema.ts';
import { warnOncePerField, type BoundaryWarn } from '../quota/bounds.ts';
import { parseRateLimitHeaders, QuotaHeaderReader } from '../quota/headers.ts';
import {
  exhaustedUntil,
  familyVerdicts,
  limitFamily,
  limitReachedMessage,
  mainLimitVerdict,
  standingHealth,
} from '../quota/limit-marks.ts';
import type { QuotaBook } from '../quota/quota-book.ts';
import { buildPoolLimitBody, parseUsageLimitBody } from '../quota/usage-limit.ts';
import { usageResponseFromSnapshot } from '../quota/usage.ts';
import { CircuitBreaker } from '../router/circuit.ts';
import { DecisionLog } from '../router/decision-log.ts';
import {
  joinNamed,
  named,
  profileRef,
  renameInReason,
  type ReasonName,
} from '../router/reason-names.ts';
import { RenameTrail } from '../router/rename-trail.ts';
import type { RecentBucket } from '../router/pool-summary.ts';
import { RequestLog, removedProfileName } from '../router/request-log.ts';
import {
  chooseProfile,
  staysOnProfile,
  stickyDetail,
  stickyWhy,
  type ExcludedCandidate,
  type RoutingCandidate,
  type RoutingDecision,
  type RoutingPin,
} from '../router/policy.ts';
import { extractRouteContext, type RouteContext } from '../router/route-context.ts';
import {
  BucketMap,
  SessionTable,
  movesSession,
  sessionsFromRequests,
  type SessionRecordInput,
  type SessionRequest,
} from '../router/sessions.ts';
import {
  whyOfRoute,
  type DecisionView,
  type RequestEnding,
  type RouteReason,
  type RouteWhyView,
  type SessionView,
} from '../view-types.ts';
import {
  effectiveHealth,
  limitLapsed,
  familyMarkHolds,
  type HealthStore,
  type ProfileHealth,
} from '../state/health-store.ts';
import { CiphertextOwners } from './ciphertext.ts';
import type { HealthFile, QuotaSnapshot } from '../state/schema.ts';
import type {
  NoPick,
  ProfilePick,
  ProxyEngine,
  ProxyRequestInfo,
  RequestOutcome,
  RoutingTicket,
  UpstreamCredentials,
  UsageLimit,
} from './engine.ts';
import { spendsQuota } from './engine.ts';

/** Where credentials come from: the TokenManager (single-flight, locked refresh). */
export interface CredentialSource {
  getCredentials(name: string): Promise<{ accessToken: string; accountId: string | null }>;
  refreshAfterUnauthorized(
    name: string,
    rejectedAccessToken: string,
  ): Promise<{ accessToken: string; accountId: string | null }>;
  /** The profile's refresh in flight, or null (`TokenManager.refreshInFlight`). */
  refreshInFlight?(name: string): Promise<{ accessToken: string; accountId: string | null }> | null;
}

/**
 * Reads the profile list and registry (the ProfileStore); `Entry` is what it lists per profile,
 * kept as read so surfaces can show the very profiles the router routes with.
 */
/** What the engine needs of a listed profile: its name and the fields of its account stamp. */
export type ListedProfile = { name: string } & AccountIdentity;

export interface RegistrySource<Entry extends ListedProfile = ListedProfile> {
  readRegistry(): Promise<Registry>;
  /** The profiles, with the identity fields their account stamp is made of (`accountStamp`). */
  listProfiles(): Promise<Entry[]>;
  /** Records in the registry that a profile was just used (`lastUsedAt`). */
  touch?(name: string): Promise<void>;
  /** True when the profile's auth file (or keychain entry) holds tokens. */
  hasTokens?(name: string): Promise<boolean>;
  /** The auth file that holds `entry`'s tokens, or null when the keychain does. */
  authFileOf?(entry: Entry): string | null;
  /** Reads the profile's tokens (the keychain re-check; its failure's code is what counts). */
  readAuth?(name: string): Promise<unknown>;
}

/** Options for `LabEngine`. */
export interface LabEngineOptions<Entry extends ListedProfile = ListedProfile> {
  paths: LabPaths;
  store: RegistrySource<Entry>;
  health: HealthStore;
  credentials: CredentialSource;
  activity: ActivityRecorder;
  /** Latest quota per profile; header snapshots go in here and are persisted by the book. */
  quota: QuotaBook;
  clock: Clock;
  logger: Logger;
  /** Called (cheaply, synchronously) whenever state worth showing changed. */
  onChange?: () => void;
  /**
   * Called each time a routing decision walks the whole pool (a new session, a pin, a failure),
   * never for a session that stays on its profile: a counting hook for tests.
   */
  onPoolWalk?: () => void;
  reloadIntervalMs?: number;
  /** A session not seen for this long is forgotten. */
  sessionTtlMs?: number;
  /** The per-request log (the service wires it to the on-disk journal); default a private one. */
  requests?: RequestLog;
  /** The decision log (the service wires it to the on-disk journal); default a private one. */
  decisions?: DecisionLog;
}

const maxDecisions = 200;
/** Default idle time after which a session leaves the table. */
const defaultEngineSessionTtlMs = 6 * 3600_000;
/** Most sessions put back from the request log on start (the ciphertext table's own bound). */
const maxRestoredSessions = 10_000;
/** Models whose limit family is remembered (a handful exist; the bound only guards memory). */
const maxModelFamilies = 256;
const credentialCacheMs = 30_000;
/** How long a profile whose credentials failed transiently is skipped (then tried again). */
const transientSkipMs = 5_000;
/**
 * How often the keychain of a profile it could not be read from is tried again, off every
 * request's path: a locked keychain may show an unlock prompt on each read.
 */
export const keychainRecheckMs = 15_000;
/**
 * Fresh tokens the upstream rejected, in a row with no success between, before the profile is
 * shown as needing a sign-in: one or two are the upstream's moment (a token that expired inside a
 * retry), three with growing pauses between them are an account that lost access.
 */
const rejectedFreshTokensLimit = 3;
/** Failures of different profiles this close together are one shared outage. */
const sharedWindowMs = 10_000;
/**
 * How long a run of cut streams on one profile, with no other profile tried lately, must last to
 * be the account's. Codex retries a cut turn five times (pauses of 200 ms doubling, about 6 s in
 * all), far short of the shared window a run of 5xx must last; its fifth cut comes about 3 s after
 * the first, which leaves its last retry to another account. Counted in time, not in cuts: many
 * sessions on one account meet a blip together, and their cuts come within milliseconds.
 */
const cutRunMs = 2_500;
/**
 * Cuts of one profile this close after the last one counted against its circuit (while another
 * profile works) are the same moment's and count once: a blip of the user's network cuts every
 * stream open on the account within milliseconds, and three sessions would otherwise meet the
 * circuit's threshold at once. Codex's retries of one cut turn (pauses of 200 ms doubling) still
 * count at 0, 1.4 s and 3 s, the threshold, before its last retry at about 6 s; a figure above
 * 1.4 s would let that retry go to the same account again.
 */
const sameCutMs = 1_000;

/** The routing policy and live state behind the router. */
export class LabEngine<Entry extends ListedProfile = ListedProfile> implements ProxyEngine {
  readonly #options: LabEngineOptions<Entry>;
  /** The profiles as the store listed them at the last good read of the registry. */
  #entries: readonly Entry[] = [];
  #profiles: string[] = [];
  /** `#profiles` as a set, for the sticky shortcut's membership check. */
  #profileSet = new Set<string>();
  /** Each profile's account stamp (`accountStamp`), as of the last reload. */
  #accounts = new Map<string, string | null>();
  /**
   * This router's renames and removals, in order: a name captured before one (a request in
   * flight, a running Codex's pin header) finds the profile it meant afterwards.
   */
  readonly #renames = new RenameTrail();
  #registry: Registry | null = null;
  /** The registry's pins, indexed once per reload (most registries have none). */
  #pins: PinIndex = emptyPins;
  /**
   * The answer for a session that stays on its profile, one per profile, so the common request
   * builds no decision (see `#choose`). Cleared whenever the profile list is re-read.
   */
  readonly #stickyAnswers = new Map<string, ChooseAnswer & { ok: true }>();
  /** The candidate the sticky check fills in, reused: the check allocates nothing. */
  readonly #stickyCandidate: RoutingCandidate = {
    name: '',
    status: 'unknown',
    unavailableUntil: null,
    circuitOpenUntil: null,
    quota: null,
  };
  /** What `#commit` tells the session table, refilled per request (the table keeps none of it). */
  readonly #recordInput: SessionRecordInput = {
    profile: '',
    route: 'sticky',
    why: stickyWhy,
    repo: null,
    model: null,
    pinned: null,
  };
  #registryMtime = -1;
  #healthMtime = -1;
  #health = new Map<string, ProfileHealth & { updatedAt?: number }>();
  readonly #pendingWrites = new PendingWork();
  readonly #quota: QuotaBook;
  readonly #sessions: SessionTable;
  readonly #buckets: BucketMap;
  readonly #decisions: DecisionLog;
  readonly #requests: RequestLog;
  readonly #circuit = new CircuitBreaker();
  // Per-model limit families (e.g. a Spark model's own quota): profile → family → limited until
  // (and when that was learnt, so a later reading of the family wins), and model → family as
  // learned from the 429s that named one. Kept in health.json too (`HealthStore`'s family marks),
  // so a restart, or another process, holds them as well.
  readonly #familyLimits = new Map<string, Map<string, FamilyMark>>();
  readonly #modelFamilies = new Map<string, string>();
  #credentials = new Map<string, { value: UpstreamCredentials; until: number }>();
  /** Profiles whose credentials failed transiently, skipped until then (see noteCredentialFailure). */
  readonly #transientUntil = new Map<string, number>();
  /**
   * Profiles whose auth file could not be read at their last credentials read (it does not parse,
   * or the disk refused it), with the error naming the file: what a refusal says instead of
   * "failed on this request". Never a pause: the next request reads the file again, so a file put
   * back serves at once. Cleared by any successful read.
   */
  readonly #fileProblems = new Map<string, LabError>();
  /**
   * Profiles whose auth file the once-a-second check found unreadable (the very read the views
   * make, so they show "auth file unreadable" at the same time): no decision picks them, even
   * while their credentials are still cached. Cleared when the file reads again or a sign-in is
   * saved.
   */
  readonly #unreadableFiles = new Map<string, LabError>();
  /** When each keychain profile in `#unreadableFiles` was last read (the mark's re-check). */
  readonly #keychainReadAt = new Map<string, number>();
  /** Keychain re-checks under way, one per profile at most. */
  readonly #keychainChecks = new Set<string>();
  /** The next keychain re-check, while a profile is marked: no request may come to run it. */
  #keychainTimer: Cancel | null = null;
  /** Set by `stop`: no timer is armed after it. */
  #stopped = false;
  /** Each auth file's stat at its last check: an unchanged file is not read again. */
  readonly #authFileKeys = new Map<string, string>();
  /** Fresh tokens the upstream rejected in a row per profile (reset by any success). */
  readonly #rejectedFreshTokens = new Map<string, number>();
  /** Last 2xx and last 5xx per profile, to tell an account's failures from a shared outage. */
  readonly #lastSuccess = new Map<string, number>();
  /** When each profile's `lastUsedAt` was last written by this process. */
  readonly #touchedAt = new Map<string, number>();
  /** Why the registry could not be read at the last reload, or null. */
  #registryProblem: LabError | null = null;
  /** Journal requests whose sessions wait for a readable registry (see `restoreSessions`). */
  #pendingRestore: SessionRequest[] | null = null;
  readonly #lastFailure = new Map<string, number>();
  /**
   * When each profile's current run of 5xx began (a gap longer than the shared window, or a
   * success, ends a run): a run that lasts the shared window is the account's, whatever else.
   */
  readonly #runStartedAt = new Map<string, number>();
  /**
   * Profiles whose last turn's stream was cut mid-turn (see `#noteStreamEnd`). While a profile is
   * here, the 200 head of its next turn is no success: only a turn that ends whole ends its run.
   */
  readonly #cutRuns = new Set<string>();
  /** When each profile's last cut counted against its circuit (see `sameCutMs`). */
  readonly #cutCountedAt = new Map<string, number>();
  #lastCheck = 0;
  #reloading: Promise<void> | null = null;
  /** The last reload queued (see `#reload`); never rejects. */
  #reloadQueue: Promise<void> = Promise.resolve();
  /** Which profile minted each session's reasoning and compaction ciphertext. */
  readonly ciphertext = new CiphertextOwners();
  /** Out-of-range upstream values are dropped at parse time and logged once per field. */
  readonly #boundaryWarn: BoundaryWarn;
  /** Each response's quota headers, parsed only when they differ from the profile's last ones. */
  readonly #quotaHeaders = new QuotaHeaderReader();

  constructor(options: LabEngineOptions<Entry>) {
    this.#options = options;
    this.#quota = options.quota;
    this.#sessions = new SessionTable({
      clock: options.clock,
      idleTtlMs: options.sessionTtlMs ?? defaultEngineSessionTtlMs,
    });
    this.#buckets = new BucketMap({ clock: options.clock });
    this.#decisions = options.decisions ?? new DecisionLog(maxDecisions);
    this.#requests = options.requests ?? new RequestLog();
    this.#boundaryWarn = warnOncePerField((fields, message) =>
      options.logger.warn(fields, message),
    );
  }

  /** How long an idle session stays in the table (and in "Live sessions"). */
  get sessionTtlMs(): number {
    return this.#options.sessionTtlMs ?? defaultEngineSessionTtlMs;
  }

  /** The per-request log. */
  get requests(): RequestLog {
    return this.#requests;
  }

  /**
   * The registry and profiles the router routes with: its last good read of the registry file
   * (null before any). While the file cannot be read the router keeps this copy, so a surface
   * that cannot read the file shows these rather than "no profiles".
   */
  routedRegistry(): { registry: Registry | null; profiles: readonly Entry[] } {
    return { registry: this.#registry, profiles: this.#entries };
  }

  /** Loads the registry and health now (call once before serving). */
  async load(): Promise<void> {
    this.#lastCheck = this.#options.clock.now();
    await this.#reload(true);
  }

  /** Forces a reload on the next request (after this process wrote the registry). */
  invalidate(): void {
    this.#lastCheck = 0;
    this.#registryMtime = -1;
    this.#healthMtime = -1;
  }

  /**
   * Re-reads the registry and health files now (the file watcher saw them change), so every
   * surface shows another process's edit without waiting for the next request.
   */
  async reloadNow(): Promise<void> {
    this.#lastCheck = this.#options.clock.now();
    await this.#reload(true);
    this.#options.onChange?.();
  }

  /** Takes in a quota snapshot (from the usage endpoint) and schedules its persistence. */
  setQuota(profile: string, snapshot: QuotaSnapshot): void {
    this.#quota.observe(profile, snapshot);
    this.#quota.persist();
  }

  /**
   * A call made with this profile's token just succeeded outside routing (a usage read): a
   * profile never seen working becomes `ok`. Limited and needs-sign-in marks stay, because the
   * usage endpoint answers even for an exhausted account.
   */
  noteTokenWorks(profile: string): void {
    const current = this.#health.get(profile);
    if (current && current.status !== 'unknown') return;
    this.#markOk(profile, true);
    this.#options.onChange?.();
  }

  /** The latest quota known for a profile. */
  quota(profile: string): QuotaSnapshot | null {
    return this.#quota.latest(profile);
  }

  /**
   * A sign-in was saved for `profile` (this process or another one told us): it is healthy again
   * at once, with fresh credentials read on the next request. The caller wrote health.json.
   */
  signedIn(profile: string): void {
    this.#credentials.delete(profile);
    this.#rejectedFreshTokens.delete(profile);
    this.#transientUntil.delete(profile);
    this.#fileProblems.delete(profile);
    this.#unreadableFiles.delete(profile);
    this.#keychainReadAt.delete(profile);
    this.#authFileKeys.delete(profile);
    this.#circuit.forget(profile);
    this.#cutRuns.delete(profile);
    this.#cutCountedAt.delete(profile);
    this.#markOk(profile, false);
    this.invalidate();
    this.#options.onChange?.();
  }

  /**
   * A fresh usage read: recorded in the quota book, and the newest reading of each limit wins
   * (`mainLimitVerdict`, `familyLimitVerdict`): a `limited` mark the read shows room against is
   * lifted, a window it shows used up marks the profile limited until that window resets, and a
   * family's mark answers only to that family's figures. A needs-sign-in mark stays: only a
   * sign-in clears it.
   */
  noteUsage(profile: string, snapshot: QuotaSnapshot): void {
    this.setQuota(profile, snapshot);
    const now = this.#options.clock.now();
    const familiesChanged = this.#noteFamilyReading(profile, snapshot, now);
    const current = this.#health.get(profile);
    if (current?.status === 'auth_error' && curedByTokensOnDisk(current.code)) {
      this.#markOk(profile, true);
      this.#options.onChange?.();
      return;
    }
    if (this.#noteMainReading(profile, snapshot, now, 'usage read')) return;
    if (familiesChanged) this.#options.onChange?.();
    this.noteTokenWorks(profile);
  }

  /**
   * Applies a reading (a usage read, or an answer's quota headers) to `profile`'s main limit
   * mark by the one rule (`mainLimitVerdict`), in memory and in health.json: lifted when it shows
   * room against a mark that holds, limited until the reset when it shows a window used up. True
   * when the mark changed.
   */
  #noteMainReading(
    profile: string,
    snapshot: QuotaSnapshot,
    now: number,
    reading: 'usage read' | 'latest answer',
  ): boolean {
    const verdict = mainLimitVerdict(this.#health.get(profile), snapshot, now);
    if (verdict === null) return false;
    if (verdict.lift) {
      this.#markOk(profile, true);
      // Said as the mark was: the log tells when the account stopped being limited, and why.
      if (reading === 'usage read') {
        this.#options.activity.add('limited', profile, roomAgainText(profile, snapshot));
      }
      this.#options.onChange?.();
      return true;
    }
    this.#markMainLimited(
      profile,
      verdict.until,
      limitReachedMessage,
      `${profile}'s ${reading} shows its quota used up; skipped until ${new Date(verdict.until).toISOString()}.`,
    );
    return true;
  }

  /**
   * Applies a usage read to `profile`'s family marks: each family the read reports, or that is
   * marked, gets that family's own verdict. True when a mark changed.
   */
  #noteFamilyReading(profile: string, snapshot: QuotaSnapshot, now: number): boolean {
    const marks = this.#familyLimits.get(profile);
    let changed = false;
    for (const { family, verdict } of familyVerdicts(
      marks?.keys() ?? [],
      (family) => marks?.get(family),
      snapshot,
      now,
    )) {
      changed = true;
      if (verdict.lift) {
        marks?.delete(family);
        if (marks?.size === 0) this.#familyLimits.delete(profile);
        this.#persist((health) => health.liftFamily(profile, family, now));
      } else {
        this.#markFamilyLimited(profile, family, verdict.until, undefined, 'usage read');
      }
    }
    return changed;
  }

  /**
   * Effective health of a profile now (in-memory, includes this process's fresh marks), limited
   * too while its latest figures show a window used up (`standingHealth`, as routing holds it).
   */
  health(profile: string): ProfileHealth {
    // What routing holds against it (see `#candidate`), so every surface shows the same.
    const unreadable = this.#unreadableFiles.get(profile);
    if (unreadable) {
      return {
        status: 'auth_error',
        unavailableUntil: null,
        code: unreadable.code,
        message: unreadable.message,
      };
    }
    const now = this.#options.clock.now();
    return standingHealth(
      effectiveHealth(this.#health.get(profile), now),
      this.#quota.latest(profile),
      now,
    );
  }

  /**
   * Until when routing skips `profile` for failing (its circuit is open after a run of upstream
   * 5xx or of streams cut mid-turn, or its credentials just failed to load), or null: what routing holds
   * against it (see `#candidate`), so every surface shows the same. Off the request path.
   */
  skippedUntil(profile: string): number | null {
    return this.#skippedUntil(profile, this.#options.clock.now());
  }

  /**
   * When `profile`'s run of upstream failures first opened its circuit, while that run lasts
   * (through the trials between openings, until it answers well), or null: one run is one
   * notice. Off the request path.
   */
  failingSince(profile: string): number | null {
    return this.#circuit.failingSince(profile, this.#options.clock.now());
  }

  /**
   * The most recent session's repo and model and the profile that served it, if recent, with the
   * repo's pin when it has one (the pool summary's "New sessions in …" follows it). Off the
   * request path.
   */
  recentBucket(): RecentBucket | null {
    const recent = this.#buckets.mostRecent();
    if (recent === null) return null;
    const pin = repoPinFor(recent.repo, this.#pins);
    return pin
      ? {
          ...recent,
          pin: { profile: pin.profile, allowFallback: pin.allowFallback, source: 'repo' },
        }
      : recent;
  }

  /**
   * Puts back the sessions of the request log read on start (oldest first), so a restarted router
   * keeps each session on the profile it was on, knows again which profile minted each blob its
   * turns' answers minted (the digests journaled with them), and presumes the rest of its reasoning
   * was minted by the one profile that answered it, when only one did. Sessions idle past the TTL are
   * left out, and at most the newest 10 000 come back. Call before serving.
   */
  restoreSessions(records: Iterable<SessionRequest>): number {
    if (this.#entries.length === 0 && this.#registryProblem !== null) {
      // No profile list to judge them by (the registry does not read): every session would look
      // like a removed profile's. They come back at the first reload that reads it.
      this.#pendingRestore = [...records];
      return 0;
    }
    this.#pendingRestore = null;
    const list = Array.isArray(records) ? (records as readonly SessionRequest[]) : [...records];
    const restored = sessionsFromRequests(list, {
      now: this.#options.clock.now(),
      idleTtlMs: this.sessionTtlMs,
      maxSessions: maxRestoredSessions,
      // A session comes back only to the account that served it: never to a profile removed since,
      // nor to another account signed in under the name.
      belongs: (record) => this.#isSameAccount(record.profile, record.account),
    });
    this.#sessions.restore(restored);
    const back = new Set<string>();
    for (const session of restored) {
      back.add(session.id);
      if (session.soleServer !== null) this.ciphertext.presume(session.id, session.soleServer);
    }
    // Who minted which blob, as each journaled turn's answer said: only a restored session's, and
    // only on the account that served it (a blob is bound to the account, not to the name).
    for (const record of list) {
      const { sessionId, profile, minted } = record;
      if (!Array.isArray(minted) || typeof sessionId !== 'string' || !back.has(sessionId)) continue;
      if (typeof profile !== 'string' || !this.#isSameAccount(profile, record.account)) continue;
      this.ciphertext.restore(sessionId, profile, minted);
    }
    return restored.length;
  }

  /** True when `profile` is a profile now and the account stamped `stamp` (see `stampMatches`). */
  #isSameAccount(profile: string | null, stamp: string | null | undefined): boolean {
    if (profile === null || !this.#accounts.has(profile)) return false;
    return stampMatches(stamp, this.#accounts.get(profile));
  }

  /** Live sessions, most recent first. */
  sessions(): SessionView[] {
    return this.#sessions.list();
  }

  /** Recent routing decisions, oldest first. */
  decisions(): DecisionView[] {
    return this.#decisions.list().reverse();
  }

  /**
   * Forgets a profile's live state (removed), or moves it (renamed). A renamed profile's past
   * requests move with it; a removed one's keep its name (they are still its history).
   */
  renameLive(from: string, to: string | null): void {
    this.#renames.record(from, to);
    // The profile list follows at once, not at the reload the operation asks for next: a request
    // ending in between is recorded under the name the profile has now.
    if (this.#profileSet.has(from)) {
      this.#profiles = this.#profiles.flatMap((name) => (name !== from ? [name] : to ? [to] : []));
      this.#profileSet = new Set(this.#profiles);
      const account = this.#accounts.get(from);
      this.#accounts.delete(from);
      if (to !== null && account !== undefined) this.#accounts.set(to, account);
      // The quota book judges its figures by the same names (before its next write).
      this.#quota.setAccounts(this.#accounts);
    }
    this.#moveLive(from, to);
  }

  /**
   * The profile list changed on disk without this router's word, or before its word came (a
   * rename's files are written before the operation tells the router): each profile is followed
   * by its account stamp. A name gone whose account is now under a new name was renamed (its state
   * moves, and pins follow it); a name gone otherwise was removed (a replayed removal, one made by
   * hand), and a name that is another account now was reused: nothing held under it is kept.
   * Profiles that name no account cannot be told apart, and are left as they are.
   */
  #followAccounts(accounts: ReadonlyMap<string, string | null>): void {
    const renamedTo = new Map<string, string>();
    for (const [name, stamp] of accounts) {
      if (stamp !== null && !this.#accounts.has(name)) renamedTo.set(stamp, name);
    }
    for (const [name, stamp] of this.#accounts) {
      const now = accounts.get(name);
      // A profile whose file names no account now (read half-written, an entry rebuilt without
      // its identity) cannot be told from the one it was: left as it is, not taken for removed.
      if (stamp === null || now === null || now === stamp) continue;
      const to = now === undefined ? (renamedTo.get(stamp) ?? null) : null;
      // A reused name is a removal to the trail too: a request routed to the old account before
      // it is not the new one's.
      this.#renames.record(name, to);
      this.#moveLive(name, to);
    }
  }

  /** Moves (`to`) or forgets (null) everything held in memory under `from`. */
  #moveLive(from: string, to: string | null): void {
    // A removed profile's requests stay its own: a profile given the name later never has them.
    this.#requests.rename(from, to, this.#options.clock.now());
    this.#stickyAnswers.clear();
    this.#quotaHeaders.forget(from);
    this.#sessions.reassign(from, to);
    this.#buckets.reassign(from, to);
    // A removed (or reused) name's blobs stay another's: owned by a name no profile can have, so
    // a session it served carries none of them to the account it goes to next.
    this.ciphertext.reassign(from, to ?? removedProfileName(from));
    this.#quota.forget(from, to ?? undefined);
    this.#quota.persist();
    this.#circuit.forget(from, to ?? undefined);
    if (this.#cutRuns.delete(from) && to !== null) this.#cutRuns.add(to);
    this.#cutCountedAt.delete(from);
    const marks = this.#familyLimits.get(from);
    this.#familyLimits.delete(from);
    if (to !== null && marks) this.#familyLimits.set(to, marks);
    this.#health.delete(from);
    this.#credentials.delete(from);
    this.#transientUntil.delete(from);
    this.#fileProblems.delete(from);
    this.#unreadableFiles.delete(from);
    this.#keychainReadAt.delete(from);
    this.#authFileKeys.delete(from);
    this.#rejectedFreshTokens.delete(from);
    this.#lastSuccess.delete(from);
    this.#touchedAt.delete(from);
    this.#lastFailure.delete(from);
    this.#runStartedAt.delete(from);
    this.invalidate();
  }

  prepare(info: ProxyRequestInfo): RoutingTicket {
    // Node's header names (`IncomingHttpHeaders`): lower case, read with one lookup each.
    const context = info.routeContext ?? extractRouteContext(info.headers, info.body, 'lower-case');
    // One object per request: its methods live on the prototype and reach the engine through
    // `#ticketHost`, bound once (closures made per request were most of what routing allocated).
    return new LabTicket(
      this.#ticketHost,
      info,
      context,
      this.#options.clock.now(),
      // Where the rename trail stood when this request came in: a rename before it ends moves it.
      this.#renames.position,
      // Only turns spend quota: the model list and usage reads are answered from a limited account.
      spendsQuota(info.kind),
    );
  }

  /** What a ticket calls back into, bound once per engine. */
  readonly #ticketHost: TicketHost = {
    choose: (ticket, excluded) => this.#ticketChoose(ticket, excluded),
    commit: (ticket, pick, excluded) => this.#ticketCommit(ticket, pick, excluded),
    finish: (ticket, outcome) => this.#ticketFinish(ticket, outcome),
    // By position in the trail, not by the names there are now: a name another account took
    // since the request came in is not this request's (swapped names, a reused one).
    nameNow: (ticket, profile) =>
      ticket.since === this.#renames.position
        ? profile
        : this.#renames.follow(profile, ticket.since),
  };

  #ticketChoose(
    ticket: LabTicket,
    excluded: ReadonlyMap<string, string>,
  ): ProfilePick | NoPick | Promise<ProfilePick | NoPick> {
    ticket.tried = excluded;
    // Synchronous unless the once-a-second file check is due: no promise per request.
    const reload = this.#maybeReload();
    return reload === null
      ? this.#ticketPick(ticket, excluded)
      : reload.then(() => this.#ticketPick(ticket, excluded));
  }

  #ticketPick(ticket: LabTicket, excluded: ReadonlyMap<string, string>): ProfilePick | NoPick {
    const context = ticket.context;
    // The pick names profiles as they are now, after any reload this choice ran: renames from
    // here on are the ones that move it (not those made before, whose names it already has).
    ticket.since = this.#renames.position;
    const result = this.#choose(context, excluded, ticket.turn);
    ticket.lastDetail = result.ok ? result.detail : result.message;
    ticket.lastDetailNames = result.names ?? noNames;
    ticket.lastWhy = result.ok ? result.why : null;
    // Only the last attempt's answer stands: a refusal the server did not send (it waited for a
    // refresh and tried again) is no refusal. It is recorded when the request ends (`#ticketFinish`).
    ticket.refused = result.ok ? null : result.fail;
    ticket.refusedPin = result.ok ? null : (result.pinned ?? null);
    if (!result.ok) return result.fail;
    ticket.lastPick = result.pick;
    // The account the request went to, taken when it is routed: a rename or removal before it
    // ends must not change whose request it was.
    ticket.account = this.#accounts.get(result.pick.profile) ?? null;
    return result.pick;
  }

  #ticketCommit(ticket: LabTicket, pick: ProfilePick, excluded: ReadonlyMap<string, string>): void {
    if (pick !== ticket.lastPick) ticket.account = this.#accounts.get(pick.profile) ?? null;
    ticket.lastPick = pick;
    const lastWhy = ticket.lastWhy;
    ticket.moving = this.#commit(
      ticket.context,
      this.#followPick(pick, ticket.since),
      excluded,
      ticket.lastDetail,
      lastWhy === null ? whyOfRoute(pick.route) : this.#followWhy(lastWhy, ticket.since),
      ticket.info.kind,
    );
  }

  #ticketFinish(ticket: LabTicket, outcome: RequestOutcome): void {
    const { refused, lastPick, lastWhy, since, context, info, tried } = ticket;
    // The sentence under today's names too: only the names it recorded change (a rename made
    // while the request ran has not reached this record, which did not exist yet).
    const reason =
      since === this.#renames.position || ticket.lastDetailNames.length === 0
        ? { text: ticket.lastDetail, names: ticket.lastDetailNames }
        : (renameInReason(
            ticket.lastDetail,
            ticket.lastDetailNames,
            (name) => this.#renames.follow(name, since) ?? removedProfileName(name),
          ) ?? { text: ticket.lastDetail, names: noNames });
    if (refused !== null) {
      this.#recordDecision(context, null, null, reason.text, tried);
      // A turn's refusal is said in the activity log; Codex's side traffic (`/models`,
      // `accounts/check`, usage reads) is refused for the same reason around it, and would say it
      // again for each request: its refusals stay in the request log only, as `codex-lab codex`
      // counts turns.
      if (ticket.turn) {
        this.#options.activity.add(
          'refused',
          null,
          `Refused ${context.sessionId ? `session ${context.sessionId}` : 'a request'} (${refused.status} ${refused.code}): ${reason.text}`,
        );
      }
    }
    // Under the name the profile has now; a profile removed meanwhile is named as removed (its
    // history, never that of a profile given the name later: `removedProfileName`).
    const followed = refused || lastPick === null ? null : this.#followPick(lastPick, since);
    // How the stream ended is the account's: booked on its name now, on nobody once removed.
    const servedBy =
      followed === null || lastPick === null ? null : this.#renames.follow(lastPick.profile, since);
    const pick =
      followed === null || servedBy !== null
        ? followed
        : { ...followed, profile: removedProfileName(followed.profile) };
    if (ticket.turn && servedBy !== null)
      this.#noteStreamEnd(servedBy, outcome.status, outcome.ending ?? null);
    // The rule behind it, under today's names (once: the move and the record both say it).
    const why = pick && lastWhy !== null ? this.#followWhy(lastWhy, since) : null;
    // A session's move waited for this answer; a profile removed meanwhile gets no session.
    if (ticket.moving && pick !== null && servedBy !== null) {
      this.#settleMove(ticket, pick, why ?? whyOfRoute(pick.route), outcome);
    }
    this.#requests.record({
      at: ticket.at,
      sessionId: context.sessionId,
      runId: runIdOf(info.headers),
      profile: pick?.profile ?? null,
      route: pick?.route ?? null,
      pinned: refused ? ticket.refusedPin : pick?.route === 'pinned' ? pick.profile : null,
      // The decision's own sentence (moments in ISO, no command): each surface words it.
      reason: reason.text,
      ...(reason.names.length > 0 ? { reasonNames: reason.names } : {}),
      // The rule behind it, so a restarted router's live sessions say it too.
      why,
      model: context.model,
      kind: info.kind,
      status: outcome.status,
      // Kept only when the stream broke: a record without it ended well, as older ones did.
      ...(outcome.ending ? { ending: outcome.ending } : {}),
      ttfbMs: outcome.ttfbMs,
      durationMs: outcome.durationMs,
      tokens: outcome.usage,
      fallback:
        tried.size === 0
          ? noFallback
          : [...tried].map(([profile, reason]) => ({ profile, reason })),
      ...(pick ? { account: ticket.account } : {}),
      ...(pick && outcome.minted ? { minted: outcome.minted } : {}),
    });
    this.#options.onChange?.();
  }

  async credentials(profile: string): Promise<UpstreamCredentials> {
    // The TokenManager reads auth.json per call; a short cache keeps file reads off the hot path.
    // A token another process rotated meanwhile stays valid until its expiry, and a 401 refreshes.
    const now = this.#options.clock.now();
    const cached = this.#credentials.get(profile);
    if (cached && cached.until > now) return cached.value;
    const value = await this.#options.credentials.getCredentials(profile);
    this.#credentials.set(profile, { value, until: now + credentialCacheMs });
    this.#fileProblems.delete(profile);
    if (this.#keychainReadAt.has(profile)) this.#keychainReadable(profile);
    return value;
  }

  async refreshAfterUnauthorized(profile: string, rejected: string): Promise<UpstreamCredentials> {
    this.#credentials.delete(profile);
    const fresh = await this.#options.credentials.refreshAfterUnauthorized(profile, rejected);
    this.#fileProblems.delete(profile);
    this.#credentials.set(profile, {
      value: fresh,
      until: this.#options.clock.now() + credentialCacheMs,
    });
    this.#options.activity.add('refresh', profile, `Refreshed ${profile}'s sign-in after a 401.`);
    return fresh;
  }

  async awaitRefresh(profile: string): Promise<boolean> {
    const flight = this.#options.credentials.refreshInFlight?.(profile) ?? null;
    if (flight === null) return false;
    let value: UpstreamCredentials;
    try {
      value = await flight;
    } catch {
      return false;
    }
    // The pause `noteCredentialFailure` set was for a refresh that has now landed.
    this.#transientUntil.delete(profile);
    this.#credentials.set(profile, { value, until: this.#options.clock.now() + credentialCacheMs });
    return true;
  }

  classify429(body: string, headers: IncomingHttpHeaders, now: number): UsageLimit | null {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return null;
    }
    const snapshot = parseRateLimitHeaders(headers, now, this.#boundaryWarn);
    const info = parseUsageLimitBody(parsed, now, snapshot, this.#boundaryWarn);
    if (info.type !== 'usage_limit_reached') return null;
    const error = (parsed as { error?: { message?: unknown } }).error;
    const message =
      typeof error?.message === 'string' ? error.message : 'The usage limit has been reached.';
    return { resetsAt: info.resetsAt, message, limitId: snapshot?.activeLimit ?? null };
  }

  observe(routedTo: string, status: number, headers: IncomingHttpHeaders): void {
    // The answer of a request routed before a rename is the renamed profile's; one routed to a
    // profile removed since is nobody's (its quota and health must not outlive it under its name).
    const profile = this.#currentName(routedTo);
    if (profile === null) return;
    const now = this.#options.clock.now();
    const snapshot = this.#quotaHeaders.read(profile, headers, now, this.#boundaryWarn);
    if (snapshot) {
      this.#quota.observe(profile, snapshot);
      this.#quota.persist();
      // New figures are weighed against the main limit's mark by the same rule as a usage read
      // (repeated ones said nothing new, and cost nothing more). A 429 makes its own mark, with
      // the answer's reset (`markLimited`), right after.
      if (this.#quotaHeaders.changed && status !== 429) {
        this.#noteMainReading(profile, snapshot, now, 'latest answer');
      }
    }
    if (status >= 200 && status < 300) {
      this.#rejectedFreshTokens.delete(profile);
      this.#lastSuccess.set(profile, now);
      // A stream's head says nothing of its end while the profile's streams keep being cut.
      if (!this.#cutRuns.has(profile)) this.#failuresEnded(profile);
      this.#touch(profile, now);
      const current = this.#health.get(profile);
      // A success lifts a mark, except one its own figures still show spent (a pinned session's
      // turns at 100 %): that mark stays until the window resets or figures show room.
      if (
        (!current || current.status !== 'ok') &&
        !(current?.status === 'limited' && exhaustedUntil(snapshot, now) !== null)
      ) {
        this.#health.set(profile, {
          status: 'ok',
          unavailableUntil: null,
          code: null,
          message: null,
          // The file's copy of this mark carries the same time: a reload never reverts it.
          updatedAt: now,
        });
        this.#persist((health) => health.markOk(profile, now));
      }
    }
    if (snapshot) this.#options.onChange?.();
  }

  markLimited(routedTo: string, limit: UsageLimit, request?: ProxyRequestInfo): void {
    // As `observe`: the mark goes to the name the profile has now, or nowhere once it is removed.
    const profile = this.#currentName(routedTo);
    if (profile === null) return;
    const now = this.#options.clock.now();
    // Without a reset time, skip the profile for a short while rather than forever.
    const until = limit.resetsAt ?? now + 5 * 60_000;
    const family = limitFamily(limit.limitId);
    if (family !== null) {
      this.#markFamilyLimited(profile, family, until, request, '429');
      return;
    }
    this.#markMainLimited(
      profile,
      until,
      limit.message,
      `${profile} reached its usage limit; skipped until ${new Date(until).toISOString()}.`,
    );
  }

  /** Marks `profile`'s main limit spent until `until`, in memory and in health.json. */
  #markMainLimited(profile: string, until: number, message: string, line: string): void {
    const now = this.#options.clock.now();
    this.#health.set(profile, {
      status: 'limited',
      unavailableUntil: until,
      code: 'usage_limit_reached',
      message,
      updatedAt: now,
    });
    this.#options.activity.add('limited', profile, line);
    this.#persist((health) => health.markLimited(profile, until, message, now));
    this.#options.onChange?.();
  }

  /**
   * A usage read (the poll, priming, a refresh asked for) refused the token it had just refreshed:
   * counted as a turn refused so is, but at most once per pause, as turns are (the pause keeps
   * them away), so reads seconds apart cannot reach "needs sign-in" on their own.
   */
  noteUsageRefused(profile: string, error: LabError): void {
    const pausedUntil = this.#transientUntil.get(profile);
    if (pausedUntil !== undefined && pausedUntil > this.#options.clock.now()) return;
    this.noteCredentialFailure(profile, error);
  }

  noteCredentialFailure(profile: string, error: LabError): void {
    const now = this.#options.clock.now();
    this.#credentials.delete(profile);
    if (error.code === 'unauthorized') {
      // The upstream rejected a token the issuer has just refreshed. Once is the upstream's
      // moment; again and again, with growing pauses (5 s, then 20 s) and no success between, it
      // is an account that lost access, and the user must see it rather than have it retried
      // (and its token rotated) forever.
      const rejected = (this.#rejectedFreshTokens.get(profile) ?? 0) + 1;
      this.#rejectedFreshTokens.set(profile, rejected);
      if (rejected >= rejectedFreshTokensLimit) {
        this.#rejectedFreshTokens.delete(profile);
        this.#markAuthError(
          profile,
          signInAgainError(
            'unauthorized',
            profile,
            `The upstream rejected ${profile} ${rejected} times in a row even with fresh tokens.`,
          ),
          now,
        );
        return;
      }
      this.#options.logger.warn({ profile, code: error.code, rejected }, 'fresh token rejected');
      this.#transientUntil.set(profile, now + transientSkipMs * 4 ** (rejected - 1));
      return;
    }
    if (error.code === 'keyring_unavailable') {
      // The keychain the tokens are in is locked or gone: as for an unreadable file, only the
      // user can mend it. The keychain has no once-a-second check, so this read is its finding.
      this.#keychainUnreadable(profile, error, now);
      return;
    }
    const file = failedFile(error);
    if (unreadableTokens(error) || file !== null) {
      // A file is broken (the profile's own auth file, or one on the way: the registry): only
      // the user can mend it, and nothing upstream is wrong. No pause (a pause would outlive the
      // file being put back) and no health mark; the refusal names the file (see
      // `#fileRefusal`), and the log says which one it is.
      this.#options.logger.warn(
        { profile, code: error.code, path: file },
        unreadableTokens(error) ? 'auth file unreadable' : 'file unreadable',
      );
      this.#fileProblems.set(profile, error);
      return;
    }
    if (!needsSignInAgain(error.code)) {
      // An unreachable issuer or a busy lock says nothing about the account: skip it briefly
      // (in memory only, never persisted), and the next request tries again.
      this.#options.logger.warn({ profile, code: error.code }, 'credentials unavailable for now');
      this.#transientUntil.set(profile, now + transientSkipMs);
      return;
    }
    this.#markAuthError(profile, error, now);
  }

  /**
   * The profile's tokens are in a keychain that is locked or unavailable: out of every decision
   * and shown so (as an unreadable auth file is, see `#unreadableFiles`) until a read succeeds.
   */
  #keychainUnreadable(profile: string, error: LabError, now: number): void {
    const had = this.#unreadableFiles.has(profile);
    this.#unreadableFiles.set(profile, keychainProblem(profile, error));
    this.#keychainReadAt.set(profile, now);
    this.#credentials.delete(profile);
    this.#stickyAnswers.clear();
    if (!had) this.#options.logger.warn({ profile, code: error.code }, 'keychain unavailable');
    this.#scheduleKeychainRecheck();
    this.#options.onChange?.();
  }

  /** Ends the engine's own timers (the keychain re-check): the service stops. */
  stop(): void {
    this.#stopped = true;
    this.#keychainTimer?.();
    this.#keychainTimer = null;
  }

  #scheduleKeychainRecheck(): void {
    if (this.#stopped || this.#keychainTimer !== null || this.#keychainReadAt.size === 0) return;
    this.#keychainTimer = this.#options.clock.setTimeout(() => {
      this.#keychainTimer = null;
      this.#recheckKeychains();
    }, keychainRecheckMs);
  }

  #keychainReadable(profile: string): void {
    this.#keychainReadAt.delete(profile);
    if (!this.#unreadableFiles.delete(profile)) return;
    this.#stickyAnswers.clear();
    this.#options.logger.info({ profile }, 'keychain readable again');
    this.#options.onChange?.();
  }

  /**
   * Reads again, off the request path, the keychain of each profile marked unreadable, once per
   * `keychainRecheckMs`: a profile out of every decision has no request left to find it mended.
   */
  #recheckKeychains(): void {
    const readAuth = this.#options.store.readAuth;
    const now = this.#options.clock.now();
    for (const [profile, readAt] of this.#keychainReadAt) {
      if (!this.#profileSet.has(profile)) {
        this.#keychainReadAt.delete(profile);
        this.#unreadableFiles.delete(profile);
        continue;
      }
      if (readAuth === undefined || this.#keychainChecks.has(profile)) continue;
      if (now - readAt < keychainRecheckMs) continue;
      this.#keychainChecks.add(profile);
      this.#keychainReadAt.set(profile, now);
      const check = readAuth
        .call(this.#options.store, profile)
        .then(
          () => this.#keychainReadable(profile),
          (error: unknown) => {
            if (!this.#keychainReadAt.has(profile)) return;
            if (isLabError(error) && error.code === 'keyring_unavailable') {
              this.#unreadableFiles.set(profile, keychainProblem(profile, error));
            } else {
              // Read, with another answer (no tokens, a bad entry): a request finds out which.
              this.#keychainReadable(profile);
            }
          },
        )
        .finally(() => {
          this.#keychainChecks.delete(profile);
          this.#scheduleKeychainRecheck();
        });
      void this.#pendingWrites.track(check);
    }
    this.#scheduleKeychainRecheck();
  }

  #markAuthError(profile: string, error: LabError, now: number): void {
    this.#credentials.delete(profile);
    this.#health.set(profile, {
      status: 'auth_error',
      unavailableUntil: null,
      code: error.code,
      message: error.message,
      updatedAt: now,
    });
    // A refresh failure's sentence already says "X needs a new sign-in (why)" (it is made by
    // `refreshFailureMessage` for exactly these codes, and by `heldByAnotherAccount` for a file
    // that holds another account): not twice over.
    const line =
      Object.hasOwn(refreshFailureReasons, error.code) || error.code === 'account_mismatch'
        ? error.message
        : `${profile} needs a new sign-in: ${error.message}`;
    this.#options.activity.add('auth_error', profile, line);
    this.#persist((health) => health.markAuthError(profile, error.code, error.message, now));
    this.#options.onChange?.();
  }

  /** Only `family` is spent on `profile`: requests for the family's models avoid it until then. */
  #markFamilyLimited(
    profile: string,
    family: string,
    until: number,
    request: ProxyRequestInfo | undefined,
    source: '429' | 'usage read',
  ): void {
    const model = request
      ? (request.routeContext ?? extractRouteContext(request.headers, request.body, 'lower-case'))
          .model
      : null;
    if (model !== null && this.#modelFamilies.get(model) !== family) {
      if (this.#modelFamilies.size >= maxModelFamilies) this.#modelFamilies.clear();
      this.#modelFamilies.set(model, family);
    }
    let marks = this.#familyLimits.get(profile);
    if (!marks) {
      marks = new Map();
      this.#familyLimits.set(profile, marks);
    }
    const now = this.#options.clock.now();
    marks.set(family, { until, markedAt: now });
    this.#persist((health) => health.markFamilyLimited(profile, family, until, model, now));
    const reached =
      source === '429'
        ? `${profile} reached its ${family} limit${model ? ` (${model})` : ''}`
        : `${profile}'s usage read shows its ${family} limit used up`;
    this.#options.activity.add(
      'limited',
      profile,
      `${reached}; requests for that family skip it until ${new Date(until).toISOString()}.`,
    );
    this.#options.onChange?.();
  }

  /** Until when a failing profile is skipped (open circuit or transient credentials), or null. */
  #skippedUntil(profile: string, now: number): number | null {
    const circuit = this.#circuit.circuitOpenUntil(profile, now);
    const transient = this.#transientUntil.get(profile);
    if (transient === undefined) return circuit;
    if (transient <= now) {
      this.#transientUntil.delete(profile);
      return circuit;
    }
    return Math.max(transient, circuit ?? 0);
  }

  /** When `profile` is limited for `family` at `now`: until when; otherwise null. */
  #familyLimitedUntil(profile: string, family: string, now: number): number | null {
    const marks = this.#familyLimits.get(profile);
    const until = marks?.get(family)?.until;
    if (until === undefined) return null;
    if (until > now) return until;
    marks!.delete(family);
    if (marks!.size === 0) this.#familyLimits.delete(profile);
    return null;
  }

  /** A profile answered well: its failure history (circuit, run of 5xx or cuts) is cleared. */
  #failuresEnded(profile: string): void {
    this.#circuit.noteSuccess(profile);
    this.#lastFailure.delete(profile);
    this.#runStartedAt.delete(profile);
    this.#cutRuns.delete(profile);
    this.#cutCountedAt.delete(profile);
  }

  /**
   * How a routed turn's answer ended, told as the request finishes: a stream the upstream cut
   * after it began (the router cannot retry it; Codex retries the turn, and the session's
   * affinity sends it to the same account) is a failure of the account, counted as a 5xx is; a
   * turn that ended whole ends the profile's run of cuts. A client that went away is nobody's.
   */
  #noteStreamEnd(routedTo: string, status: number, ending: RequestEnding | null): void {
    if (status < 200 || status >= 300) return;
    if (ending === null) {
      if (this.#cutRuns.has(routedTo)) this.#failuresEnded(routedTo);
      return;
    }
    if (ending !== 'upstream_cut') return;
    const profile = this.#currentName(routedTo);
    if (profile === null) return;
    this.#cutRuns.add(profile);
    this.#countFailure(profile, cutRunMs, sameCutMs);
  }

  /**
   * Counts a failure against the profile's circuit only when it is the account's: a transport
   * error is the network's, and a 5xx while other profiles fail too is a shared outage; a 5xx
   * while no other profile has worked recently counts only once the profile's run of failures
   * has lasted the shared window. A short blip may not open circuits or move sessions.
   */
  noteFailure(routedTo: string, status: number | null): void {
    const profile = this.#currentName(routedTo);
    if (profile === null) return;
    if (status === null) return;
    this.#countFailure(profile, sharedWindowMs);
  }

  /**
   * One failure of `profile` (a 5xx, a cut stream), judged against the others' as `noteFailure`
   * says; with no other profile tried lately, a run of them that has lasted `accountRunMs` is the
   * account's. With `sameMomentMs` (cuts), failures that close after the last one counted are
   * the same moment's and count once.
   */
  #countFailure(profile: string, accountRunMs: number, sameMomentMs?: number): void {
    const now = this.#options.clock.now();
    const recent = (at: number) => now - at <= sharedWindowMs;
    const othersFailing = [...this.#lastFailure].some(([p, at]) => p !== profile && recent(at));
    const othersWorking = [...this.#lastSuccess].some(([p, at]) => p !== profile && recent(at));
    const previous = this.#lastFailure.get(profile);
    // A run begins after a gap, and again after a shared outage forgot it (its failures coming
    // on while the others' stop must still be able to last `accountRunMs`).
    if (previous === undefined || !recent(previous) || !this.#runStartedAt.has(profile)) {
      this.#runStartedAt.set(profile, now);
    }
    this.#lastFailure.set(profile, now);
    if (othersFailing) {
      // Several accounts failing alike: the upstream is down, not an account. Forget what the
      // breaker learned in the meantime so nobody is moved off a warm account. (Runs of cuts stay
      // marked: the heads of turns still being cut must not hide their failures from the others.)
      let closed = false;
      for (const name of this.#lastFailure.keys()) {
        if (this.#circuit.circuitOpenUntil(name, now) !== null) closed = true;
        this.#circuit.forget(name);
        this.#runStartedAt.delete(name);
        this.#cutCountedAt.delete(name);
      }
      if (closed) this.#options.onChange?.();
      return;
    }
    const before = this.#circuit.circuitOpenUntil(profile, now);
    // With no other account tried lately a short run is presumed a shared blip; one that lasts
    // `accountRunMs` (for 5xx the shared window: Codex gives up on a turn after about 25 s of
    // retries; for cuts `cutRunMs`) is counted, so a retry goes to another account, which then
    // shows whose failure it was.
    if (othersWorking) {
      const counted = this.#cutCountedAt.get(profile);
      const sameMoment =
        sameMomentMs !== undefined && counted !== undefined && now - counted < sameMomentMs;
      if (!sameMoment) {
        // Stamped only while the circuit is closed, so a failed trial after it is always counted.
        if (sameMomentMs !== undefined && before === null) this.#cutCountedAt.set(profile, now);
        this.#circuit.noteUpstreamFailure(profile, now);
      }
    } else {
      const since = this.#runStartedAt.get(profile) ?? now;
      if (now - since >= accountRunMs) this.#circuit.open(profile, now);
    }
    // Every surface shows the profile as failing (its circuit opened, or a failed trial reopened
    // it for longer) at once.
    if (this.#circuit.circuitOpenUntil(profile, now) !== before) this.#options.onChange?.();
  }

  accountOf(profile: string): string | null {
    const entry = this.#entries.find((listed) => listed.name === profile);
    // An entry from before account ids were recorded: the id its tokens carry, once read.
    return entry?.accountId ?? this.#credentials.get(profile)?.value.accountId ?? null;
  }

  usageAnswer(profile: string): unknown {
    const snapshot = this.#quota.latest(profile);
    if (!snapshot) return null;
    const now = this.#options.clock.now();
    // A profile the upstream refused for its usage limit is at its limit, whatever its last
    // numbers said (a usage read goes to one when the whole pool is limited).
    const limited = effectiveHealth(this.#health.get(profile), now).status === 'limited';
    const entry = this.#entries.find((listed) => listed.name === profile);
    const tokens = this.#credentials.get(profile)?.value;
    // Whose numbers these are, first, as the upstream's answer names its account: Codex reads
    // `account_id` into the app-server's `accountId`, which was null here and the profile's id
    // when the router asked the upstream instead.
    // The store's entries record the user (`ProfileEntry.userId`); the tokens carry it too.
    const listedUser =
      entry !== undefined && 'userId' in entry && typeof entry.userId === 'string'
        ? entry.userId
        : null;
    return {
      user_id: listedUser ?? tokens?.userId ?? null,
      account_id: this.accountOf(profile),
      email: entry?.email ?? null,
      ...usageResponseFromSnapshot(limited ? { ...snapshot, limitReached: true } : snapshot, now),
    };
  }

  #choose(
    context: RouteContext,
    excluded: ReadonlyMap<string, string>,
    spendsQuota: boolean,
  ): ChooseAnswer {
    const now = this.#options.clock.now();
    const registry = this.#registry;
    const pin = pinFor(context, this.#pins, this.#profileSet, this.#followHeaderPin);
    const family =
      this.#familyLimits.size === 0 || context.model === null
        ? null
        : (this.#modelFamilies.get(context.model) ?? null);
    const sessionProfile = this.#sessions.profileOf(context.sessionId);
    // An existing session that stays put (the common case) is decided from its own profile
    // alone, without building anything; anything else walks the pool. (The trial rule
    // (`circuitTrial`) cannot change that answer: it applies only when every usable profile is
    // skipped, the session's included.)
    if (
      sessionProfile !== null &&
      pin === null &&
      excluded.size === 0 &&
      this.#profileSet.has(sessionProfile) &&
      staysOnProfile(this.#candidate(sessionProfile, family, now, this.#stickyCandidate), now)
    ) {
      let answer = this.#stickyAnswers.get(sessionProfile);
      if (answer === undefined) {
        answer = {
          ok: true,
          pick: { ok: true, profile: sessionProfile, route: 'sticky', allowFallback: false },
          detail: stickyDetail,
          why: stickyWhy,
        };
        this.#stickyAnswers.set(sessionProfile, answer);
      }
      return answer;
    }
    this.#options.onPoolWalk?.();
    // (When every usable profile is skipped for failing, the chooser lets the request through as
    // a trial: `circuitTrial`.)
    const candidates = this.#profiles.map((name) => this.#candidate(name, family, now));
    const decision = chooseProfile({
      candidates,
      context,
      sessionProfile,
      sessionRemoved:
        sessionProfile === null ? this.#sessions.removedProfileOf(context.sessionId) : null,
      pin,
      active: registry?.active ?? 'auto',
      bucketProfile: this.#buckets.get(context.repo, context.model),
      exclude: new Set(excluded.keys()),
      now,
      spendsQuota,
    });
    if (decision.outcome === 'routed' && decision.profile !== null && decision.route !== null) {
      return {
        ok: true,
        pick: {
          ok: true,
          profile: decision.profile,
          route: decision.route,
          allowFallback: pin?.allowFallback ?? false,
        },
        detail: decision.detail,
        names: decision.detailNames,
        why: decision.why,
      };
    }
    const message = decision.detail;
    if (decision.outcome === 'unknown_pin') {
      const name = pin?.profile ?? decision.blockedBy?.profile ?? '';
      // A name this router renamed, to a profile removed since: say where it went, not "never was".
      const trail = this.#renames.resolve(name, (candidate) => this.#profileSet.has(candidate));
      const said =
        trail.kind === 'gone'
          ? `The pinned profile "${name}" was renamed to ${trail.renamedTo}, which no longer exists.`
          : `The pinned profile "${name}" does not exist.`;
      return {
        ok: false,
        message: said,
        fail: userMustAct(
          'profile_not_found',
          `${said.slice(0, -1)}; run codex-lab list to see the profiles.`,
        ),
        pinned: name,
      };
    }
    if (this.#profiles.length === 0 && this.#registryProblem !== null) {
      const text = `Codex Lab cannot read its profiles: ${this.#registryProblem.message}`;
      return { ok: false, message: text, fail: userMustAct(this.#registryProblem.code, text) };
    }
    if (this.#profiles.length === 0) {
      return {
        ok: false,
        message: noProfilesSentence,
        fail: userMustAct('no_eligible_profile', noProfilesSentence),
      };
    }
    const blocked = decision.blockedBy;
    const fileRefusal = this.#fileRefusal(decision, excluded);
    if (fileRefusal !== null) return fileRefusal;
    if (decision.outcome === 'pinned_unavailable' && blocked?.code === 'auth_error') {
      // What the logs keep says what is wrong; the command goes only to Codex (the dashboard
      // offers its own "Sign in again").
      const said = named`The pinned profile ${profileRef(blocked.profile)} needs a new sign-in.`;
      return {
        ok: false,
        message: said.text,
        names: said.names,
        fail: userMustAct(
          'not_signed_in',
          `${said.text.slice(0, -1)}: run ${signInCommand(blocked.profile)}.`,
        ),
        pinned: blocked.profile,
      };
    }
    if (
      decision.outcome === 'none_eligible' &&
      decision.excluded.length > 0 &&
      decision.excluded.every((entry) => entry.code === 'auth_error')
    ) {
      // No wait helps: every profile needs its user to sign in again.
      const names = decision.excluded.map((entry) => entry.profile);
      const said = named`Every Codex Lab profile needs a new sign-in (${joinNamed(
        names.map((name) => named`${profileRef(name)}`),
        ', ',
      )}).`;
      const text = `${said.text.slice(0, -1)}: run ${signInCommand(names[0]!)} (and each other one), or use "Sign in again" in the Codex Lab app.`;
      return {
        ok: false,
        message: said.text,
        names: said.names,
        fail: userMustAct('not_signed_in', text),
      };
    }
    // Profiles that failed this very request reach the policy as "failed"; their fresh limit
    // marks still count for the pool's earliest reset.
    const until =
      decision.outcome === 'none_eligible'
        ? this.#earliestReset(now, decision.earliestReset)
        : decision.earliestReset;
    // A profile that failed this very request (a 5xx, a refresh the issuer answered 502) or whose
    // circuit is open may serve on Codex's retry: a 429 usage_limit_reached would end the turn
    // with "You've hit your usage limit" instead, so the retryable 503 below is answered.
    const passing =
      decision.outcome === 'none_eligible' &&
      decision.excluded.some((entry) => entry.code === 'failed' || entry.code === 'circuit_open');
    if (
      !passing &&
      (until !== null || blocked?.code === 'limited' || blocked?.code === 'exhausted')
    ) {
      const pool = decision.outcome === 'none_eligible' ? poolLimitOf(decision.excluded) : null;
      const body = buildPoolLimitBody({
        earliestReset: until,
        now,
        profileCount: this.#profiles.length,
        ...(pool ?? {}),
      });
      if (pool !== null && pool.signInNeeded.length > 0 && pool.onlyLimits) {
        // Codex words a 429 usage_limit_reached itself ("You've hit your usage limit"), which
        // would hide that a sign-in may give capacity now: a 400 is shown at once, as written.
        const said = body.error['message'] as string;
        return { ok: false, message: said, fail: userMustAct('not_signed_in', said) };
      }
      if (decision.outcome === 'pinned_unavailable' && blocked) {
        body.error['message'] =
          `The pinned profile ${blocked.profile} has reached its usage limit.`;
      }
      return {
        ok: false,
        message,
        names: decision.detailNames,
        fail: {
          ok: false,
          status: 429,
          code: 'usage_limit_reached',
          message: body.error['message'] as string,
          body,
        },
        ...(decision.outcome === 'pinned_unavailable' && blocked
          ? { pinned: blocked.profile }
          : {}),
      };
    }
    // Said to Codex (and kept in the request log) as people read times; the decision keeps ISO.
    const text = `No profile can take this request right now: ${humanizeTimes(message, { now })}`;
    return {
      ok: false,
      message,
      names: decision.detailNames,
      fail: { ok: false, status: 503, code: 'no_eligible_profile', message: text },
      ...(decision.outcome === 'pinned_unavailable' && blocked ? { pinned: blocked.profile } : {}),
    };
  }

  /**
   * The refusal when the request could not be served because auth files could not be read on it:
   * the pinned profile's, or, unpinned, every profile's that was tried (the others needing a
   * sign-in). Each file is named; only the user can mend them, so Codex is told at once rather
   * than retrying. Null when anything else stood in the way (that refusal is the usual one).
   */
  #fileRefusal(
    decision: RoutingDecision,
    excluded: ReadonlyMap<string, string>,
  ): ChooseAnswer | null {
    // A file that holds no tokens, or another account's, needs a sign-in as spent tokens do: said
    // as that (below), whether the file check or a request found it first.
    const problemOf = (profile: string): LabError | undefined => {
      const problem =
        this.#unreadableFiles.get(profile) ??
        (unreadableFile(excluded.get(profile) ?? '') ? this.#fileProblems.get(profile) : undefined);
      return problem === undefined || needsSignInAgain(problem.code) ? undefined : problem;
    };
    const blocked = decision.blockedBy;
    if (decision.outcome === 'pinned_unavailable' && blocked) {
      const problem = problemOf(blocked.profile);
      if (problem === undefined) return null;
      const said = named`The pinned profile ${profileRef(blocked.profile)} cannot be used: ${problem.message}`;
      return {
        ok: false,
        message: said.text,
        names: said.names,
        fail: userMustAct(problem.code, said.text),
        pinned: blocked.profile,
      };
    }
    if (decision.outcome !== 'none_eligible' || decision.excluded.length === 0) return null;
    const problems: LabError[] = [];
    for (const entry of decision.excluded) {
      const problem = problemOf(entry.profile);
      if (problem !== undefined) problems.push(problem);
      else if (entry.code !== 'auth_error') return null;
    }
    if (problems.length === 0) return null;
    // One file (the registry) can stand in the way of every profile: named once.
    const messages = [...new Set(problems.map((problem) => problem.message))];
    const said = `No Codex Lab profile can take this request: ${messages.join(' ')}`;
    return { ok: false, message: said, fail: userMustAct(problems[0]!.code, said) };
  }

  /**
   * One profile as the policy sees it at `now` (health, family limit, circuit, quota), written
   * into `into` when given (the sticky check reuses one object), else into a new one.
   */
  #candidate(
    name: string,
    family: string | null,
    now: number,
    into?: RoutingCandidate,
  ): RoutingCandidate {
    const unreadable = this.#unreadableFiles.get(name);
    const stored = this.#health.get(name);
    // A stored mark that still holds (nearly always) is read as it is, not copied per request.
    const health: ProfileHealth = unreadable
      ? { status: 'auth_error', unavailableUntil: null, code: unreadable.code, message: null }
      : stored !== undefined && !limitLapsed(stored, now)
        ? stored
        : effectiveHealth(stored, now);
    const familyUntil =
      family !== null && (health.status === 'ok' || health.status === 'unknown')
        ? this.#familyLimitedUntil(name, family, now)
        : null;
    const status = familyUntil === null ? health.status : 'limited';
    const unavailableUntil = familyUntil ?? health.unavailableUntil;
    const circuitOpenUntil = this.#skippedUntil(name, now);
    const quota = this.#quota.latest(name);
    const statusCode = health.code;
    if (into === undefined) {
      return { name, status, statusCode, unavailableUntil, circuitOpenUntil, quota };
    }
    into.name = name;
    into.status = status;
    into.statusCode = statusCode;
    into.unavailableUntil = unavailableUntil;
    into.circuitOpenUntil = circuitOpenUntil;
    into.quota = quota;
    return into;
  }

  #earliestReset(now: number, fromPolicy: number | null): number | null {
    let earliest = fromPolicy;
    for (const name of this.#profiles) {
      const health = effectiveHealth(this.#health.get(name), now);
      if (health.status === 'limited' && health.unavailableUntil !== null) {
        earliest =
          earliest === null ? health.unavailableUntil : Math.min(earliest, health.unavailableUntil);
      }
    }
    return earliest;
  }

  /**
   * `pick` with the name its profile has now, after the renames made since `since` (the same
   * object when there were none). A profile removed since keeps the name it had.
   */
  #followPick(pick: ProfilePick, since: number): ProfilePick {
    if (since === this.#renames.position) return pick;
    const now = this.#renames.follow(pick.profile, since);
    return now === null || now === pick.profile ? pick : { ...pick, profile: now };
  }

  /**
   * `why` with the names its profiles have now, after the renames made since `since` (the same
   * object when there were none or it names none).
   */
  #followWhy(why: RouteWhyView, since: number): RouteWhyView {
    if (since === this.#renames.position || why.left.length === 0) return why;
    return {
      ...why,
      left: why.left.map((entry) => ({
        ...entry,
        profile: this.#renames.follow(entry.profile, since) ?? entry.profile,
      })),
    };
  }

  /** A pin header's name as `#currentName` resolves it (bound once: the hot path allocates none). */
  readonly #followHeaderPin = (name: string): string | null => this.#currentName(name);

  /**
   * The profile a name captured earlier means now: itself while a profile has it, else where this
   * router's renames took it; null when it was removed (or renamed to a profile removed since).
   * A name the trail does not know is returned as it is.
   */
  #currentName(name: string): string | null {
    if (this.#profileSet.has(name)) return name;
    const answer = this.#renames.resolve(name, (candidate) => this.#profileSet.has(candidate));
    if (answer.kind === 'profile') return answer.profile;
    return answer.kind === 'unknown' ? name : null;
  }

  /**
   * Records where the request was routed: the session and the repo's bucket (the decision log and
   * the activity for anything but a sticky repeat). Returns true when the request takes an
   * existing session to another profile: that move waits for the answer (`#ticketFinish`), so
   * nothing of it is recorded yet.
   */
  #commit(
    context: RouteContext,
    pick: ProfilePick,
    excluded: ReadonlyMap<string, string>,
    detail: string,
    why: RouteWhyView,
    kind: string,
  ): boolean {
    let moving = false;
    // A profile removed while the request was upstream gets no session back: the removal forgot
    // its sessions, and the name may go to another account.
    if (spendsQuota(kind) && this.#currentName(pick.profile) !== null) {
      // A session goes to another account only once that account has answered its turn well: a
      // retry sent there may be the probe of a shared outage (the run rule opened the session's
      // circuit), and a failure there too must leave its prompt cache where it is warm. (A sticky
      // pick is the session's own profile: no second lookup on the hot path.)
      if (pick.route !== 'sticky') {
        const from = this.#sessions.profileOf(context.sessionId);
        moving = from !== null && from !== pick.profile;
      }
      if (!moving) this.#bindSession(context, pick, why);
    }
    if (pick.route === 'sticky' && excluded.size === 0) {
      // Sticky repeats are the common case; keep the decision log for changes.
      return moving;
    }
    this.#recordDecision(context, pick.profile, pick.route, detail, excluded);
    if (!moving) this.#announceRoute(context, pick, excluded);
    this.#options.onChange?.();
    return moving;
  }

  /** The session (when the request has one) and the repo's bucket go to `pick`'s profile. */
  #bindSession(context: RouteContext, pick: ProfilePick, why: RouteWhyView): void {
    if (context.sessionId) {
      const input = this.#recordInput;
      input.profile = pick.profile;
      input.route = pick.route;
      input.why = why;
      input.repo = context.repo;
      input.model = context.model;
      input.pinned = pick.route === 'pinned' ? pick.profile : null;
      this.#sessions.record(context.sessionId, input);
    }
    this.#buckets.set(context.repo, context.model, pick.profile);
  }

  /** The activity's line (and, for a fallback, the router log's) for a request routed to `pick`. */
  #announceRoute(
    context: RouteContext,
    pick: ProfilePick,
    excluded: ReadonlyMap<string, string>,
  ): void {
    if (pick.route === 'fallback') {
      const from = [...excluded.keys()].join(', ');
      // One info line per fallback in the router's log: the event a person running `serve`
      // wants to see without turning on debug.
      this.#options.logger.info(
        { session: context.sessionId, profile: pick.profile, skipped: [...excluded.keys()] },
        `fallback: ${context.sessionId ?? 'a request'} moved to ${pick.profile}${from ? ` (skipped ${from})` : ''}`,
      );
      this.#options.activity.add(
        'fallback',
        pick.profile,
        `Moved ${context.sessionId ?? 'a request'} to ${pick.profile}${from ? ` (skipped ${from})` : ''}.`,
      );
    } else {
      this.#options.activity.add(
        'route',
        pick.profile,
        `Routed ${context.sessionId ?? 'a request'} to ${pick.profile} (${pick.route}).`,
      );
    }
  }

  /**
   * A request that took its session to another profile has ended: the session moves there only
   * when that account answered the turn well (`movesSession`). A 5xx, an error event or a cut
   * stream leaves it on its account, as does Codex going away.
   */
  #settleMove(
    ticket: LabTicket,
    pick: ProfilePick,
    why: RouteWhyView,
    outcome: RequestOutcome,
  ): void {
    const { context, tried } = ticket;
    if (!movesSession(outcome.status, outcome.ending)) {
      this.#options.logger.debug(
        { session: context.sessionId, profile: pick.profile, status: outcome.status },
        `${context.sessionId} stays on ${this.#sessions.profileOf(context.sessionId) ?? 'its profile'}: ${pick.profile} did not answer well`,
      );
      return;
    }
    this.#bindSession(context, pick, why);
    this.#announceRoute(context, pick, tried);
  }

  #recordDecision(
    context: RouteContext,
    profile: string | null,
    route: RouteReason | null,
    detail: string,
    excluded: ReadonlyMap<string, string>,
  ): void {
    this.#decisions.record({
      at: this.#options.clock.now(),
      sessionId: context.sessionId,
      profile,
      route,
      detail,
      excluded:
        excluded.size === 0
          ? []
          : [...excluded].map(([name, reason]) => ({ profile: name, reason })),
    });
  }

  /** Marks `profile` healthy in memory now, and in health.json when `persist` (else the caller wrote it). */
  #markOk(profile: string, persist: boolean): void {
    const now = this.#options.clock.now();
    this.#health.set(profile, {
      status: 'ok',
      unavailableUntil: null,
      code: null,
      message: null,
      updatedAt: now,
    });
    if (persist) this.#persist((health) => health.markOk(profile, now));
  }

  /**
   * Whether an auth file is marked unreadable (not a keychain, which is re-checked on its own
   * timer): while one is, every request looks again first, so the turn right after the user
   * mended the file is served, not refused by a mark up to a second old.
   */
  #brokenAuthFile(): boolean {
    if (this.#unreadableFiles.size === 0) return false;
    for (const problem of this.#unreadableFiles.values()) {
      if (problem.code !== 'keyring_unavailable') return true;
    }
    return false;
  }

  /**
   * Re-checks the registry and health files when due (or an unreadable auth file at once); null
   * when nothing needs awaiting.
   */
  #maybeReload(): Promise<void> | null {
    const now = this.#options.clock.now();
    if (
      now - this.#lastCheck < (this.#options.reloadIntervalMs ?? 1000) &&
      !this.#brokenAuthFile()
    ) {
      return null;
    }
    this.#lastCheck = now;
    this.#reloading ??= this.#reload(false).finally(() => {
      this.#reloading = null;
    });
    return this.#reloading;
  }

  /**
   * Reloads run one after another: a reload that read the files before a write must not finish
   * after (and overwrite) one that started after it.
   */
  #reload(force: boolean): Promise<void> {
    const run = this.#reloadQueue.then(() => this.#reloadOnce(force));
    this.#reloadQueue = run;
    return run;
  }

  async #reloadOnce(force: boolean): Promise<void> {
    const { paths, store, health, logger } = this.#options;
    try {
      const [registryMtime, healthMtime, legacyMtime] = await Promise.all([
        mtimeOf(paths.registry),
        mtimeOf(paths.health),
        mtimeOf(paths.legacyAuth),
      ]);
      const registryKey = registryMtime * 31 + legacyMtime;
      if (force || registryKey !== this.#registryMtime) {
        try {
          this.#registry = await store.readRegistry();
          this.#pins = indexPins(this.#registry);
          const listed = await store.listProfiles();
          this.#entries = listed;
          this.#profiles = listed.map((p) => p.name);
          this.#profileSet = new Set(this.#profiles);
          const accounts = accountStamps(listed);
          this.#followAccounts(accounts);
          this.#accounts = accounts;
          if (this.#quota.setAccounts(accounts)) this.#quota.persist();
          this.#stickyAnswers.clear();
          this.#registryProblem = null;
          if (this.#pendingRestore !== null) this.restoreSessions(this.#pendingRestore);
        } catch (error) {
          // Kept to name in refusals: with no copy read yet, "no profiles" would be a lie.
          if (isLabError(error)) this.#registryProblem = error;
          throw error;
        } finally {
          this.#registryMtime = registryKey;
        }
      }
      if (force || healthMtime !== this.#healthMtime) {
        const file: HealthFile = await health.read();
        for (const [name, entry] of Object.entries(file.profiles)) {
          const mine = this.#health.get(name);
          // Our in-memory mark wins over a file entry that is not newer (a tie is our own copy).
          if (!mine || (mine.updatedAt ?? 0) < entry.updatedAt) this.#health.set(name, entry);
        }
        this.#takeFamilyMarks(file, this.#options.clock.now());
        this.#healthMtime = healthMtime;
      }
      // Files first: a mark is lifted only for a file that holds the profile's own tokens.
      await this.#checkAuthFiles();
      await this.#liftSignInMarks();
      this.#recheckKeychains();
    } catch (error) {
      logger.warn({ err: error }, 'could not reload the registry or health; keeping the last copy');
    }
  }

  /**
   * Takes the family marks health.json holds (made by an earlier run, or another process) that are
   * newer than this process's own: a mark, with the models it was learnt for, or its lifting.
   */
  #takeFamilyMarks(file: HealthFile, now: number): void {
    for (const [name, families] of Object.entries(file.families ?? {})) {
      for (const [family, stored] of Object.entries(families)) {
        const mine = this.#familyLimits.get(name);
        if ((mine?.get(family)?.markedAt ?? -1) >= stored.markedAt) continue;
        if (!familyMarkHolds(stored, now)) {
          // Lifted (or lapsed) after our mark was made.
          mine?.delete(family);
          if (mine?.size === 0) this.#familyLimits.delete(name);
          continue;
        }
        let marks = mine;
        if (!marks) {
          marks = new Map();
          this.#familyLimits.set(name, marks);
        }
        marks.set(family, { until: stored.until, markedAt: stored.markedAt });
        for (const model of stored.models) {
          if (this.#modelFamilies.get(model) === family) continue;
          if (this.#modelFamilies.size >= maxModelFamilies) this.#modelFamilies.clear();
          this.#modelFamilies.set(model, family);
        }
      }
    }
  }

  /**
   * A profile marked "needs sign-in" because its auth file was missing is served again once the
   * file holds tokens (put back from a backup): checked on each reload, for those profiles only.
   */
  async #liftSignInMarks(): Promise<void> {
    const hasTokens = this.#options.store.hasTokens;
    if (hasTokens === undefined) return;
    for (const [profile, mark] of this.#health) {
      if (!signInMarkLifted(mark, true) || !this.#profileSet.has(profile)) continue;
      const held =
        !this.#unreadableFiles.has(profile) &&
        (await hasTokens.call(this.#options.store, profile).catch(() => false));
      if (!signInMarkLifted(mark, held)) continue;
      this.#markOk(profile, true);
      this.#options.activity.add('login', profile, `${profile} has its tokens back.`);
      this.#options.onChange?.();
    }
  }

  /**
   * Reads each auth file that changed since the last check (and, every time, each one found
   * unreadable), as the views do: one whose file no longer parses is out of every decision from
   * now on rather than when its cached credentials run out, so what routing does agrees with
   * what every surface says ("auth file unreadable · New sessions → another").
   */
  async #checkAuthFiles(): Promise<void> {
    const store = this.#options.store;
    if (store.authFileOf === undefined) return;
    const listed = new Set<string>();
    const check = async (entry: ListedProfile, path: string): Promise<void> => {
      const name = entry.name;
      const key = await statKey(path);
      const known = this.#unreadableFiles.get(name);
      // A file that did not parse is read each time (a mend may keep its size and mtime); one
      // that is missing or holds another account changes its stat when it is put right.
      if (key === this.#authFileKeys.get(name) && !unreadableFile(known?.code)) return;
      const changed = key !== this.#authFileKeys.get(name);
      this.#authFileKeys.set(name, key);
      // Credentials cached from the file as it was are not used past this check: a deleted file
      // or another account's tokens stop the profile now, as every view already says.
      if (changed) this.#credentials.delete(name);
      const problem = await authFileProblem(entry, path);
      if (problem === null) {
        if (known === undefined) return;
        this.#unreadableFiles.delete(name);
        this.#stickyAnswers.clear();
        this.#options.logger.info({ profile: name }, 'auth file usable again');
      } else {
        this.#unreadableFiles.set(name, problem);
        this.#stickyAnswers.clear();
        if (known?.code === problem.code) return;
        this.#options.logger.warn({ profile: name, code: problem.code }, 'auth file unusable');
      }
      this.#options.onChange?.();
    };
    // All at once: the request that found the once-a-second check due waits for it, and one stat
    // after another would make it wait a stat per profile.
    const checks: Promise<void>[] = [];
    for (const entry of this.#entries) {
      const path = store.authFileOf(entry);
      if (path === null) continue;
      listed.add(entry.name);
      checks.push(check(entry, path));
    }
    await Promise.all(checks);
    for (const name of [...this.#authFileKeys.keys()]) {
      if (listed.has(name)) continue;
      this.#authFileKeys.delete(name);
      this.#unreadableFiles.delete(name);
    }
  }

  /** Writes `lastUsedAt` for a profile that served a turn, at most once a minute (off the path). */
  #touch(profile: string, now: number): void {
    const store = this.#options.store;
    const last = this.#touchedAt.get(profile);
    if (store.touch === undefined || (last !== undefined && now - last < lastUseIntervalMs)) return;
    this.#touchedAt.set(profile, now);
    void this.#pendingWrites.track(
      store
        .touch(profile)
        .catch((error: unknown) =>
          this.#options.logger.debug({ err: error, profile }, 'could not record the last use'),
        ),
    );
  }

  #persist(write: (health: HealthStore) => Promise<void>): void {
    // Off the hot path: the router already acts on the in-memory mark.
    void this.#pendingWrites.track(
      write(this.#options.health).catch((error: unknown) =>
        this.#options.logger.warn({ err: error }, 'could not save profile health'),
      ),
    );
  }

  /**
   * Writes the marks held in memory to `state/health.json` when that file is missing (moved
   * aside): the file is their copy for other processes, and without it they would read every
   * profile as not checked yet. A file present is left alone.
   */
  async restoreHealthFile(): Promise<void> {
    const marks: HealthFile['profiles'] = {};
    for (const [name, mark] of this.#health) {
      if (mark.updatedAt === undefined || !this.#profileSet.has(name)) continue;
      marks[name] = { ...mark, updatedAt: mark.updatedAt };
    }
    const families: NonNullable<HealthFile['families']> = {};
    for (const [name, held] of this.#familyLimits) {
      if (!this.#profileSet.has(name)) continue;
      const own: NonNullable<HealthFile['families']>[string] = {};
      for (const [family, mark] of held) own[family] = { ...mark, models: this.#modelsOf(family) };
      families[name] = own;
    }
    await this.#options.health.restoreIfMissing(marks, families);
  }

  /** The models learnt to be of `family`. */
  #modelsOf(family: string): string[] {
    return [...this.#modelFamilies].filter(([, of]) => of === family).map(([model]) => model);
  }

  /** Resolves when every health mark made so far is on disk (before a process exits). */
  async settled(): Promise<void> {
    // A reload may mark health or drop another account's figures (writes of its own), and a
    // write may be queued behind a reload: until both are quiet.
    let queue: Promise<void>;
    do {
      queue = this.#reloadQueue;
      await queue;
      await this.#pendingWrites.settled();
    } while (queue !== this.#reloadQueue || this.#pendingWrites.size > 0);
  }
}

const noneExcluded: ReadonlyMap<string, string> = new Map();

/** What a `LabTicket` calls back into: its engine's private steps, bound once per engine. */
interface TicketHost {
  choose(
    ticket: LabTicket,
    excluded: ReadonlyMap<string, string>,
  ): ProfilePick | NoPick | Promise<ProfilePick | NoPick>;
  commit(ticket: LabTicket, pick: ProfilePick, excluded: ReadonlyMap<string, string>): void;
  finish(ticket: LabTicket, outcome: RequestOutcome): void;
  nameNow(ticket: LabTicket, profile: string): string | null;
}

/**
 * One request's routing state across its attempts: plain fields the engine fills in, and the
 * `RoutingTicket` methods on the prototype, so routing a request allocates this one object.
 */
class LabTicket implements RoutingTicket {
  readonly sessionId: string | null;
  readonly host: TicketHost;
  readonly info: ProxyRequestInfo;
  readonly context: RouteContext;
  /** When the request came in. */
  readonly at: number;
  /**
   * The rename trail's position (`RenameTrail.position`) when the request came in, then when its
   * profile was last picked: the names it holds are the names as of then.
   */
  since: number;
  /** Whether the request spends quota (`spendsQuota`). */
  readonly turn: boolean;
  /** The last decision's sentence (or refusal's message). */
  lastDetail = '';
  /** Where `lastDetail` names profiles (under the names as of `since`). */
  lastDetailNames: readonly ReasonName[] = noNames;
  lastWhy: RouteWhyView | null = null;
  lastPick: ProfilePick | null = null;
  refused: NoPick | null = null;
  refusedPin: string | null = null;
  /** The profiles the last attempt excluded. */
  tried: ReadonlyMap<string, string> = noneExcluded;
  /** The account stamp of the profile picked, taken when it was picked. */
  account: string | null = null;
  /** The commit took an existing session to another profile: it moves once that one answers well. */
  moving = false;

  constructor(
    host: TicketHost,
    info: ProxyRequestInfo,
    context: RouteContext,
    at: number,
    since: number,
    turn: boolean,
  ) {
    this.sessionId = context.sessionId;
    this.host = host;
    this.info = info;
    this.context = context;
    this.at = at;
    this.since = since;
    this.turn = turn;
  }

  choose(
    excluded: ReadonlyMap<string, string>,
  ): ProfilePick | NoPick | Promise<ProfilePick | NoPick> {
    return this.host.choose(this, excluded);
  }

  commit(pick: ProfilePick, excluded: ReadonlyMap<string, string>): void {
    this.host.commit(this, pick, excluded);
  }

  finish(outcome: RequestOutcome): void {
    this.host.finish(this, outcome);
  }

  nameNow(profile: string): string | null {
    return this.host.nameNow(this, profile);
  }
}

/** A refusal only the user can mend, answered so Codex shows it at once (`NoPick.userMustAct`). */
/**
 * Who stands behind a pool-wide usage limit: how many profiles reached it, which need a new sign-in
 * (`auth_error`), and whether those two are all there is (nothing failing or unreadable besides).
 */
function poolLimitOf(excluded: readonly ExcludedCandidate[]): {
  limitedCount: number;
  signInNeeded: string[];
  onlyLimits: boolean;
} {
  let limitedCount = 0;
  const signInNeeded: string[] = [];
  let onlyLimits = true;
  for (const entry of excluded) {
    if (entry.code === 'limited' || entry.code === 'exhausted') limitedCount += 1;
    else if (entry.code === 'auth_error') signInNeeded.push(entry.profile);
    else onlyLimits = false;
  }
  return { limitedCount, signInNeeded, onlyLimits };
}

function userMustAct(code: ErrorCode, message: string): NoPick {
  return { ok: false, status: 400, code, message, userMustAct: true };
}

/** What `#choose` answers: a pick and why, or the refusal to send. */
type ChooseAnswer =
  | {
      ok: true;
      pick: ProfilePick;
      detail: string;
      /** Where `detail` names profiles; absent when it names none. */
      names?: readonly ReasonName[];
      why: RouteWhyView;
    }
  | {
      ok: false;
      fail: NoPick;
      message: string;
      /** Where `message` names profiles; absent when it names none. */
      names?: readonly ReasonName[];
      /** The profile the request was pinned to, when the refusal is about that pin. */
      pinned?: string;
    };
const noFallback: readonly { profile: string; reason: string }[] = [];
const noNames: readonly ReasonName[] = [];
/** Longest `x-codex-lab-run` value kept (a UUID is 36). */
const maxRunIdLength = 100;

/** The `codex-lab codex` run a request belongs to (its `x-codex-lab-run` header), or null. */
function runIdOf(headers: IncomingHttpHeaders): string | null {
  const value = headers['x-codex-lab-run'];
  const text = Array.isArray(value) ? value[0] : value;
  return text && text.length <= maxRunIdLength ? text : null;
}

/** A per-model family's mark: limited until, and when that was learnt (Unix ms). */
interface FamilyMark {
  until: number;
  markedAt: number;
}

/** A registry's pins as the hot path reads them: null when there are none of a kind. */
interface PinIndex {
  sessions: Map<string, Pin> | null;
  /** Exact repository paths, for the common exact match. */
  repos: Map<string, Pin> | null;
  /** Every repository pin, longest path first (the deepest covering pin is the first match). */
  reposByDepth: Array<[string, Pin]>;
}

const emptyPins: PinIndex = { sessions: null, repos: null, reposByDepth: [] };

function indexPins(registry: Registry | null): PinIndex {
  if (!registry) return emptyPins;
  const sessions = Object.entries(registry.pins.sessions);
  const repos = Object.entries(registry.pins.repos);
  if (sessions.length === 0 && repos.length === 0) return emptyPins;
  return {
    sessions: sessions.length === 0 ? null : new Map(sessions),
    repos: repos.length === 0 ? null : new Map(repos),
    // A stable sort: among equally long paths the registry's order decides, as it did before.
    reposByDepth: repos.sort((left, right) => right[0].length - left[0].length),
  };
}

function pinFor(
  context: RouteContext,
  pins: PinIndex,
  profiles: ReadonlySet<string>,
  follow: (name: string) => string | null,
): RoutingPin | null {
  // The header is a name the user typed (`CODEX_LAB_PROFILE`): read by the one rule every
  // command uses, so `ALPHA-2` pins alpha-2 and `auto` is no pin at all. A name no profile has
  // follows this router's renames: a running Codex cannot change the header it was started with.
  const typed = context.headerProfile;
  if (typed && !isAutoName(typed)) {
    const profile = matchProfileName(typed, profiles) ?? follow(typed.toLowerCase()) ?? typed;
    return { profile, allowFallback: false, source: 'header' };
  }
  const session =
    pins.sessions !== null && context.sessionId
      ? (pins.sessions.get(context.sessionId) ??
        // Pins are kept in lower case, as Codex sends its ids; another client's upper-case UUID
        // still matches (a second lookup only for an id that missed).
        pins.sessions.get(context.sessionId.toLowerCase()))
      : undefined;
  if (session)
    return { profile: session.profile, allowFallback: session.allowFallback, source: 'session' };
  const repo = pins.repos !== null && context.repo ? repoPinFor(context.repo, pins) : undefined;
  if (repo) return { profile: repo.profile, allowFallback: repo.allowFallback, source: 'repo' };
  return null;
}

/** The pin of the repository holding `workspace`: an exact match, else the deepest covering pin. */
function repoPinFor(workspace: string, pins: PinIndex): Pin | undefined {
  const exact = pins.repos?.get(workspace);
  if (exact) return exact;
  for (const [path, pin] of pins.reposByDepth) {
    if (repoPathCovers(path, workspace)) return pin;
  }
  return undefined;
}

/** What tells a file's change: its times, size and inode (`missing` when it cannot be stat'ed). */
async function statKey(path: string): Promise<string> {
  try {
    const info = await stat(path);
    return `${info.mtimeMs}:${info.ctimeMs}:${info.size}:${info.ino}`;
  } catch {
    return 'missing';
  }
}

/**
 * What a profile whose keychain is locked or unavailable is shown and refused with: the one
 * sentence every surface uses (`keychainProfileUnreadable`), with when the router tries again.
 */
function keychainProblem(profile: string, error: LabError): LabError {
  return keychainProfileUnreadable(
    profile,
    error,
    ` (Codex Lab tries it again within ${keychainRecheckMs / 1000} s)`,
  );
}

/**
 * Why the auth file at `path` cannot serve `entry`, else null: it cannot be read (it does not
 * parse, or the disk refuses it), it is gone or holds no tokens, or it holds another account's
 * tokens (`heldByAnotherAccount`, the rule the token manager and the views apply too).
 */
async function authFileProblem(entry: ListedProfile, path: string): Promise<LabError | null> {
  let auth;
  try {
    auth = await readAuthFile(path);
  } catch (error) {
    return isLabError(error) && unreadableTokens(error) ? error : null;
  }
  if (!auth?.tokens) {
    return signInAgainError('not_signed_in', entry.name, `${path} holds no tokens.`, {
      namesProfile: false,
    });
  }
  return heldByAnotherAccount(entry.name, entry, auth);
}

async function mtimeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return 0;
  }
}
