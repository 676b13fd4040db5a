/**
 * The router's memory of live Codex sessions and of which profile each repo/model bucket used
 * last. Both are bounded in size (least recently used entries go first) and in age (idle entries
 * expire, pruned lazily on writes), so a router left running for days keeps flat memory.
 */
import type { Clock } from '../ports.ts';
import {
  whyOfRoute,
  type RequestEnding,
  type RouteReason,
  type RouteWhyView,
  type SessionView,
} from '../view-types.ts';
import {
  isRemovedProfileName,
  nameBeforeRemoval,
  isRouteWhy,
  removedProfileName,
  renamedWhy,
  type RequestRecord,
} from './request-log.ts';

/**
 * What one request tells the table about its session (`pinned` is the pinned profile when the
 * request was pinned, else null; `why` the decision's rule, its route's plain reading when absent).
 */
export type SessionRecordInput = Pick<
  SessionView,
  'profile' | 'route' | 'repo' | 'model' | 'pinned'
> & { why?: RouteWhyView };

/** One tracked session: the contract's `SessionView` with times in Unix ms. */
export type SessionEntry = Omit<SessionView, 'startedAt' | 'lastSeenAt'> & {
  startedAt: number;
  lastSeenAt: number;
};

/** Limits of a `SessionTable`. */
export interface SessionTableOptions {
  clock: Pick<Clock, 'now'>;
  /** Most sessions kept; the least recently seen go first. Default 100 000. */
  maxEntries?: number;
  /** A session idle this long is forgotten. Default 24 h. */
  idleTtlMs?: number;
}

/** Default bound on tracked sessions. */
export const defaultMaxSessions = 100_000;
/** Default idle time after which a session is forgotten. */
export const defaultSessionTtlMs = 24 * 60 * 60 * 1000;

/** How many expired entries one write prunes at most, so no single request pays for a sweep. */
const pruneBatch = 64;

/** The two ends of a recency list of sessions (oldest at the head). */
interface RecencyEnds {
  oldest: SessionSlot | null;
  newest: SessionSlot | null;
}

/**
 * One tracked session: the entry and its place in the recency list in one object, so a lookup
 * touches one object instead of a node and the entry beside it. The links are private fields:
 * the entry handed out still serialises (and lists its keys) as the plain `SessionEntry`.
 */
class SessionSlot implements SessionEntry {
  id: string;
  profile: string;
  route: SessionEntry['route'];
  why: RouteWhyView;
  repo: string | null;
  model: string | null;
  pinned: string | null;
  requests: number;
  startedAt: number;
  lastSeenAt: number;
  #older: SessionSlot | null = null;
  #newer: SessionSlot | null = null;

  constructor(entry: SessionEntry) {
    this.id = entry.id;
    this.profile = entry.profile;
    this.route = entry.route;
    this.why = entry.why;
    this.repo = entry.repo;
    this.model = entry.model;
    this.pinned = entry.pinned;
    this.requests = entry.requests;
    this.startedAt = entry.startedAt;
    this.lastSeenAt = entry.lastSeenAt;
  }

  /** The next older session in the list, or null at the head. */
  get older(): SessionSlot | null {
    return this.#older;
  }

  /** Takes the slot out of the list (a slot not in it is left as is). */
  unlink(ends: RecencyEnds): void {
    const older = this.#older;
    const newer = this.#newer;
    if (older) older.#newer = newer;
    else if (ends.oldest === this) ends.oldest = newer;
    if (newer) newer.#older = older;
    else if (ends.newest === this) ends.newest = older;
    this.#older = null;
    this.#newer = null;
  }

  /** Puts the slot at the oldest end of the list. */
  prepend(ends: RecencyEnds): void {
    const oldest = ends.oldest;
    this.#newer = oldest;
    this.#older = null;
    if (oldest) oldest.#older = this;
    ends.oldest = this;
    ends.newest ??= this;
  }

  /** Puts the slot at the newest end of the list. */
  append(ends: RecencyEnds): void {
    const newest = ends.newest;
    this.#older = newest;
    this.#newer = null;
    if (newest) newest.#newer = this;
    ends.newest = this;
    ends.oldest ??= this;
  }
}

/**
 * Sessions keyed by their id, with an intrusive doubly linked recency list (oldest at the head),
 * so a touch, an LRU eviction and TTL pruning are all O(1) per entry. (Re-inserting into a `Map`
 * to keep order would leave deleted slots that every "oldest entry" lookup has to skip.)
 */
export class SessionTable {
  readonly #entries = new Map<string, SessionSlot>();
  readonly #ends: RecencyEnds = { oldest: null, newest: null };
  readonly #clock: Pick<Clock, 'now'>;
  readonly #maxEntries: number;
  readonly #idleTtlMs: number;
  // Repos and models repeat across sessions: share one string per value instead of one per entry.
  readonly #strings = new StringPool(4096);
  /**
   * The slot the last `get` found: a request looks its session up to route it and then records
   * it, so the second lookup is a pointer comparison (the same id string) instead of a hash probe.
   */
  #lastFound: SessionSlot | null = null;

  constructor(options: SessionTableOptions) {
    this.#clock = options.clock;
    this.#maxEntries = Math.max(1, options.maxEntries ?? defaultMaxSessions);
    this.#idleTtlMs = options.idleTtlMs ?? defaultSessionTtlMs;
  }

  /** How many sessions are tracked (expired ones not yet pruned included). */
  get size(): number {
    return this.#entries.size;
  }

  /** The session, or undefined when unknown or idle past the TTL. Does not count as activity. */
  get(id: string): SessionEntry | undefined {
    const slot = this.#entries.get(id);
    if (!slot) return undefined;
    if (this.#expired(slot, this.#clock.now())) {
      this.#remove(slot);
      return undefined;
    }
    this.#lastFound = slot;
    return slot;
  }

  /**
   * The profile the session is on, or null (none, or a removed profile's: routed afresh). The
   * hot-path lookup for the policy.
   */
  profileOf(id: string | null): string | null {
    if (id === null) return null;
    const profile = this.get(id)?.profile;
    return profile === undefined || isRemovedProfileName(profile) ? null : profile;
  }

  /**
   * The name of the profile the session was on when that profile has been removed since, else
   * null: its next turn moves, and the decision says what it left (`RoutingInput.sessionRemoved`).
   */
  removedProfileOf(id: string | null): string | null {
    if (id === null) return null;
    const profile = this.get(id)?.profile;
    return profile === undefined ? null : nameBeforeRemoval(profile);
  }

  /**
   * Records one routed request: creates or updates the session, counts it, marks it recent.
   * Keeps no reference to `input`: a caller may refill one object for every request.
   */
  record(id: string, input: SessionRecordInput): SessionEntry {
    const now = this.#clock.now();
    this.#prune(now);
    const last = this.#lastFound;
    let slot = last !== null && last.id === id ? last : this.#entries.get(id);
    if (slot && this.#expired(slot, now)) {
      this.#remove(slot);
      slot = undefined;
    }
    if (slot) {
      slot.unlink(this.#ends);
      slot.profile = input.profile;
      slot.route = input.route;
      slot.why = input.why ?? whyOfRoute(input.route);
      // Usually the same repo and model as last time: a string comparison, not a pool lookup.
      if (input.repo !== null && input.repo !== slot.repo) {
        slot.repo = this.#strings.intern(input.repo);
      }
      if (input.model !== null && input.model !== slot.model) {
        slot.model = this.#strings.intern(input.model);
      }
      slot.pinned = input.pinned;
      slot.requests += 1;
      slot.lastSeenAt = now;
    } else {
      while (this.#entries.size >= this.#maxEntries && this.#ends.oldest) {
        this.#remove(this.#ends.oldest);
      }
      slot = new SessionSlot({
        id,
        profile: input.profile,
        route: input.route,
        why: input.why ?? whyOfRoute(input.route),
        repo: input.repo === null ? null : this.#strings.intern(input.repo),
        model: input.model === null ? null : this.#strings.intern(input.model),
        pinned: input.pinned,
        requests: 1,
        startedAt: now,
        lastSeenAt: now,
      });
      this.#entries.set(id, slot);
    }
    slot.append(this.#ends);
    return slot;
  }

  /**
   * Puts back sessions from before a restart (oldest first, as `sessionsFromRequests` gives
   * them), behind every session already tracked: they are older than anything seen since. Ids the
   * table already knows, and sessions idle past the TTL, are skipped; the size bound holds.
   */
  restore(entries: readonly SessionEntry[]): void {
    const now = this.#clock.now();
    for (let index = entries.length - 1; index >= 0; index--) {
      if (this.#entries.size >= this.#maxEntries) return;
      const entry = entries[index] as SessionEntry;
      if (this.#entries.has(entry.id) || this.#expired(entry, now)) continue;
      const slot = new SessionSlot({
        ...entry,
        repo: entry.repo === null ? null : this.#strings.intern(entry.repo),
        model: entry.model === null ? null : this.#strings.intern(entry.model),
      });
      this.#entries.set(entry.id, slot);
      slot.prepend(this.#ends);
    }
  }

  /** Moves a session to another profile (a fallback or a re-pin from the UI). False if unknown. */
  move(id: string, profile: string): boolean {
    const entry = this.get(id);
    if (!entry) return false;
    entry.profile = profile;
    return true;
  }

  /** Forgets one session. */
  delete(id: string): boolean {
    const slot = this.#entries.get(id);
    if (!slot) return false;
    this.#remove(slot);
    return true;
  }

  /**
   * Re-points every session on `from` to `to` (a rename), or names them as removed when `to` is
   * null (a removal): they still show, as the removed profile's requests do, but no profile
   * serves them (`profileOf`), so their next turn is routed afresh. Rare, so a full scan is fine.
   */
  reassign(from: string, to: string | null): void {
    for (const slot of [...this.#entries.values()]) {
      // The profiles a fallback left keep their account's new name too (a removed one its old).
      if (to !== null && slot.why.left.some((entry) => entry.profile === from)) {
        slot.why = renamedWhy(slot.why, from, to);
      }
      if (slot.profile !== from) continue;
      if (to === null) {
        slot.profile = removedProfileName(from);
        // The pin names a profile that is gone: the stored pin, not this copy, decides its fate.
        if (slot.pinned === from) slot.pinned = null;
      } else {
        slot.profile = to;
        // A pinned session's pin is the same profile: it names the new name too.
        if (slot.pinned === from) slot.pinned = to;
      }
    }
  }

  /** The `limit` most recently seen live sessions, newest first, as views with ISO times. */
  list(limit = 100): SessionView[] {
    const now = this.#clock.now();
    const views: SessionView[] = [];
    for (let slot = this.#ends.newest; slot && views.length < limit; slot = slot.older) {
      if (this.#expired(slot, now)) break;
      views.push(toSessionView(slot));
    }
    return views;
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
    this.#lastFound = null;
    this.#ends.oldest = null;
    this.#ends.newest = null;
  }

  #expired(entry: SessionEntry, now: number): boolean {
    return now - entry.lastSeenAt > this.#idleTtlMs;
  }

  #prune(now: number): void {
    for (let pruned = 0; pruned < pruneBatch; pruned++) {
      const oldest = this.#ends.oldest;
      if (!oldest || !this.#expired(oldest, now)) return;
      this.#remove(oldest);
    }
  }

  #remove(slot: SessionSlot): void {
    if (this.#lastFound === slot) this.#lastFound = null;
    slot.unlink(this.#ends);
    this.#entries.delete(slot.id);
  }
}

/** What a past request (a request-log record) tells about its session. */
export type SessionRequest = Pick<
  RequestRecord,
  | 'at'
  | 'sessionId'
  | 'profile'
  | 'route'
  | 'why'
  | 'fallback'
  | 'model'
  | 'kind'
  | 'status'
  | 'account'
  | 'minted'
  | 'ending'
>;

/**
 * Whether a turn's answer takes its session to the profile that gave it: a 2xx that ended whole.
 * A retry sent to another account during a shared outage (a 5xx there too, an error event, a cut
 * stream) leaves the session, and its prompt cache, on the account it was on.
 */
export function movesSession(status: number, ending: RequestEnding | null | undefined): boolean {
  return status >= 200 && status < 300 && !ending;
}

/** A session rebuilt from the request log, with what it says about the session's ciphertext. */
export interface RestoredSession extends SessionEntry {
  /**
   * The one profile that answered every turn of the session the log holds, or null when several
   * did (or none did): then it alone minted the reasoning the session replays.
   */
  soleServer: string | null;
}

/** Bounds of `sessionsFromRequests`. */
export interface RestoreBounds {
  /** Unix ms. */
  now: number;
  /** Sessions idle longer than this are left out (the table's TTL). */
  idleTtlMs: number;
  /** Most sessions returned: the most recently seen. */
  maxSessions: number;
  /**
   * Whether a request's profile is still the account that served it (the profile exists, under
   * that name now, and is the same account: see `accountStamp`). A session whose last turn went
   * to a profile that is gone is left out, as a removal forgets it in a running router; a turn
   * answered by one no longer counts as the session's sole server. Default: every one is.
   */
  belongs?: (record: SessionRequest) => boolean;
}

/**
 * The sessions a request log (oldest first, as the journal holds it) shows, as the session table
 * had them: each on the profile its last routed turn went to. Only turns (`responses`, `compact`)
 * that reached a profile count, as they are what the table records; refusals do not. Oldest first,
 * at most `maxSessions`, none idle past the TTL. One pass over the records.
 */
export function sessionsFromRequests(
  records: Iterable<SessionRequest>,
  bounds: RestoreBounds,
): RestoredSession[] {
  const sessions = new Map<string, RestoredSession>();
  const servers = new Map<string, string | null>();
  // Sessions whose last turn went to a profile that is gone (see `RestoreBounds.belongs`).
  const gone = new Set<string>();
  const oldestKept = bounds.now - bounds.idleTtlMs;
  for (const record of records) {
    const { sessionId, profile } = record;
    // The records come from a file: anything not shaped as the router writes it is passed over.
    if (typeof sessionId !== 'string' || typeof profile !== 'string') continue;
    if (typeof record.route !== 'string' || !Number.isFinite(record.at)) continue;
    if (record.kind !== 'responses' && record.kind !== 'compact') continue;
    let session = sessions.get(sessionId);
    if (session === undefined) {
      session = {
        id: sessionId,
        profile,
        route: record.route,
        why: whyOfRecord(record),
        repo: null,
        model: null,
        pinned: null,
        requests: 0,
        startedAt: record.at,
        lastSeenAt: record.at,
        soleServer: null,
      };
      sessions.set(sessionId, session);
    }
    // A turn on an account that is gone: the session is not that name's any more, and what that
    // account minted is no profile's now (never presumed to be whoever holds the name today).
    if (bounds.belongs !== undefined && !bounds.belongs(record)) {
      gone.add(sessionId);
      session.profile = profile;
      if (record.status >= 200 && record.status < 300) servers.set(sessionId, null);
      session.requests += 1;
      session.lastSeenAt = Math.max(session.lastSeenAt, record.at);
      continue;
    }
    // A turn another profile did not answer well left the session where it was (`movesSession`),
    // as the live table did; a session still new, or last on an account that is gone, takes it.
    const stays =
      session.requests > 0 &&
      !gone.has(sessionId) &&
      profile !== session.profile &&
      !movesSession(record.status, record.ending);
    gone.delete(sessionId);
    if (!stays) {
      session.profile = profile;
      session.route = record.route;
      session.why = whyOfRecord(record);
      session.pinned = record.route === 'pinned' ? profile : null;
    }
    if (typeof record.model === 'string') session.model = record.model;
    session.requests += 1;
    session.startedAt = Math.min(session.startedAt, record.at);
    session.lastSeenAt = Math.max(session.lastSeenAt, record.at);
    // Only an answer that went through minted reasoning (absent: none yet; null: several).
    if (record.status >= 200 && record.status < 300) {
      const known = servers.get(sessionId);
      if (known === undefined) servers.set(sessionId, profile);
      else if (known !== profile) servers.set(sessionId, null);
    }
  }
  // A session last on an account that is gone comes back as that profile's, named as its
  // requests are (`removedProfileName`), as the live table names it after a removal.
  for (const id of gone) {
    const session = sessions.get(id)!;
    if (!isRemovedProfileName(session.profile)) {
      session.profile = removedProfileName(session.profile);
    }
    session.pinned = null;
  }
  const kept = [...sessions.values()].filter((session) => session.lastSeenAt >= oldestKept);
  for (const session of kept) session.soleServer = servers.get(session.id) ?? null;
  kept.sort((left, right) => left.lastSeenAt - right.lastSeenAt);
  return kept.slice(Math.max(0, kept.length - bounds.maxSessions));
}

/** The rule a journal record kept; for an older record, its route and fallback chain. */
function whyOfRecord(record: SessionRequest): RouteWhyView {
  if (isRouteWhy(record.why)) return record.why;
  const why = whyOfRoute(record.route as RouteReason);
  if (record.route !== 'fallback' || !Array.isArray(record.fallback)) return why;
  return {
    ...why,
    left: record.fallback.map((entry) => ({ profile: entry.profile, code: 'failed' })),
  };
}

/** A session entry as the contract's `SessionView` (ISO times). */
export function toSessionView(entry: SessionEntry): SessionView {
  return {
    id: entry.id,
    profile: entry.profile,
    route: entry.route,
    why: entry.why,
    repo: entry.repo,
    model: entry.model,
    pinned: entry.pinned,
    requests: entry.requests,
    startedAt: new Date(entry.startedAt).toISOString(),
    lastSeenAt: new Date(entry.lastSeenAt).toISOString(),
  };
}

/** Limits of a `BucketMap`. */
export interface BucketMapOptions {
  clock: Pick<Clock, 'now'>;
  /** Most buckets kept. Default 1 000. */
  maxEntries?: number;
  /** A bucket unused this long is forgotten (the upstream prefix cache is long gone). Default 1 h. */
  ttlMs?: number;
}

/**
 * (repo, model) → the profile that served it most recently, so new sessions of the same repo and
 * model share one account's prefix cache. Bounded and expiring like `SessionTable`.
 *
 * A bucket needs both a repository and a model: this is the one place that decides which
 * sessions are grouped for the prompt cache. Sessions in no repository (Codex names no workspace
 * outside git) run in unrelated folders with their own instructions and context, so they share no
 * more of their prompt than sessions of two different repositories do, and are not grouped; nor
 * are turns with no model (a prefix cache is per model).
 */
export class BucketMap {
  /**
   * repo → model → bucket. Two lookups with the request's own strings
   * instead of one with a key built per request: a concatenated key is a new string V8 has to
   * flatten and hash on every request.
   */
  readonly #repos = new Map<string, Map<string, BucketEntry>>();
  #size = 0;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #maxEntries: number;
  readonly #ttlMs: number;

  constructor(options: BucketMapOptions) {
    this.#clock = options.clock;
    this.#maxEntries = Math.max(1, options.maxEntries ?? 1000);
    this.#ttlMs = options.ttlMs ?? 60 * 60 * 1000;
  }

  /** How many buckets are kept. */
  get size(): number {
    return this.#size;
  }

  /** The bucket's recent profile, or null (always when the repo or the model is unknown). */
  get(repo: string | null, model: string | null): string | null {
    if (repo === null || model === null) return null;
    const entry = this.#repos.get(repo)?.get(model);
    if (!entry) return null;
    if (this.#clock.now() - entry.at > this.#ttlMs) {
      this.#delete(entry);
      return null;
    }
    return entry.profile;
  }

  /** Remembers that `profile` served the bucket just now; nothing without a repo and a model. */
  set(repo: string | null, model: string | null, profile: string): void {
    if (repo === null || model === null) return;
    const now = this.#clock.now();
    // Nearly every request refreshes a bucket that exists: update it in place. (Moving it to a
    // map's newest end would cost a delete and an insert per request, and the deleted slots make
    // the map rebuild its table every few dozen requests.)
    const known = this.#repos.get(repo)?.get(model);
    if (known !== undefined) {
      known.profile = profile;
      known.at = now;
      return;
    }
    // A new bucket when full (rare: buckets are repo × model): the least recently used goes.
    while (this.#size >= this.#maxEntries && this.#evictLeastRecent());
    let models = this.#repos.get(repo);
    if (models === undefined) {
      models = new Map();
      this.#repos.set(repo, models);
    }
    models.set(model, { repo, model, profile, at: now });
    this.#size += 1;
  }

  /** Forgets the least recently used bucket; false when there is none. */
  #evictLeastRecent(): boolean {
    let oldest: BucketEntry | null = null;
    for (const models of this.#repos.values()) {
      for (const entry of models.values()) {
        if (oldest === null || entry.at < oldest.at) oldest = entry;
      }
    }
    if (oldest === null) return false;
    this.#delete(oldest);
    return true;
  }

  #delete(entry: BucketEntry): void {
    const models = this.#repos.get(entry.repo);
    if (!models?.delete(entry.model)) return;
    this.#size -= 1;
    if (models.size === 0) this.#repos.delete(entry.repo);
  }

  /**
   * The bucket used last, if it has not expired: where a new session in the repo the user works
   * in goes (a scan, for the state's pool summary, never per request).
   */
  mostRecent(): { repo: string; model: string; profile: string } | null {
    let newest: BucketEntry | null = null;
    for (const models of this.#repos.values()) {
      for (const entry of models.values()) {
        if (newest === null || entry.at > newest.at) newest = entry;
      }
    }
    if (newest === null || this.#clock.now() - newest.at > this.#ttlMs) return null;
    return { repo: newest.repo, model: newest.model, profile: newest.profile };
  }

  /** Re-points (rename) or forgets (removal, `to` null) every bucket on `from`. */
  reassign(from: string, to: string | null): void {
    for (const models of [...this.#repos.values()]) {
      for (const entry of [...models.values()]) {
        if (entry.profile !== from) continue;
        if (to === null) this.#delete(entry);
        else entry.profile = to;
      }
    }
  }

  /** Forgets everything. */
  clear(): void {
    this.#repos.clear();
    this.#size = 0;
  }
}

/** One repo/model bucket, with its keys so it can be deleted from where it is found. */
interface BucketEntry {
  repo: string;
  model: string;
  profile: string;
  at: number;
}

/** A bounded intern pool: equal strings share one copy while the pool has room. */
class StringPool {
  readonly #pool = new Map<string, string>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  intern(value: string): string {
    const known = this.#pool.get(value);
    if (known !== undefined) return known;
    if (this.#pool.size >= this.#max) this.#pool.clear();
    this.#pool.set(value, value);
    return value;
  }
}
