/**
 * The per-request log: for each routed (or refused) request its time, session, profile, route and
 * reason, model, status, time to first byte, duration, token counts and fallback chain. A
 * fixed-size ring in memory; `record` is O(1) (one slot write, then listeners — the journal sink
 * only queues the object). Views, filters and totals are built when someone reads.
 */
import type {
  ExcludedCandidateView,
  RequestEnding,
  RequestTokensView,
  RequestView,
  RouteReason,
  RouteWhyView,
  UsageTotalsView,
  UsageTotalView,
} from '../view-types.ts';
import { isReasonNames, renameInReason, type ReasonName } from './reason-names.ts';

/** One request as recorded (times in Unix ms). */
export interface RequestRecord {
  id: number;
  at: number;
  sessionId: string | null;
  runId: string | null;
  profile: string | null;
  route: RouteReason | null;
  /** The profile the request was pinned to (absent in records from before it was kept). */
  pinned?: string | null;
  reason: string;
  /**
   * Where `reason` names profiles (`core/router/reason-names.ts`): the only words of it a rename
   * rewrites. Absent in records from before it was kept: their sentence is left as written.
   */
  reasonNames?: readonly ReasonName[];
  /**
   * The rule that routed it (`RouteWhyView`); null for a refusal. Absent in records from before it
   * was kept.
   */
  why?: RouteWhyView | null;
  model: string | null;
  kind: string;
  status: number;
  /**
   * How its stream ended when not as it should; absent (or null) when it ended well, and in
   * records from before it was kept.
   */
  ending?: RequestEnding | null;
  ttfbMs: number | null;
  durationMs: number;
  tokens: RequestTokensView | null;
  fallback: readonly ExcludedCandidateView[];
  /**
   * The account stamp of the profile that served it (`accountStamp`), so a restarted router never
   * attaches the request's session to another account that took the name since. Absent in records
   * from before it was kept, and for refusals.
   */
  account?: string | null;
  /**
   * Digests of the account-bound blobs the answer minted (`ciphertextDigest`), so a restarted router
   * knows they are this profile's. Never shown: the router's own bookkeeping. Absent when none, and
   * in records from before it was kept.
   */
  minted?: readonly string[];
}

/** Which requests a reader wants. */
export interface RequestFilter {
  sessionId?: string | null;
  profile?: string | null;
  runId?: string | null;
  /** Only requests with an id above this (for followers). */
  afterId?: number;
}

/** Default number of requests kept in memory. */
export const defaultRequestCapacity = 2000;

/**
 * A rename as the journal keeps it: the requests before it that name `from` are `to`'s. The log
 * is append-only, so a rename is one more line rather than an edit of every earlier one. A
 * removal is one too, with `to: null`: the requests before it are the removed profile's
 * (`removedProfileName`), never those of a profile that takes the name later.
 */
export interface RequestRenameRecord {
  type: 'rename';
  from: string;
  to: string | null;
  /** Unix ms. */
  at: number;
}

/** What `removedProfileName` adds to a name. */
const removedSuffix = ' (removed)';

/**
 * What the requests of a removed profile name it by: its name marked removed, which no profile
 * can have (a profile name holds no space), so a profile that takes the name later (a rename, a
 * sign-in) never inherits them, in the filter by profile or in the totals, while the log still
 * says whose they were.
 */
export function removedProfileName(name: string): string {
  return name + removedSuffix;
}

/** True when `name` is a removed profile's (`removedProfileName`): no profile serves it. */
export function isRemovedProfileName(name: string): boolean {
  return name.endsWith(removedSuffix);
}

/** The name a removed profile had (`removedProfileName` undone), or null for any other name. */
export function nameBeforeRemoval(name: string): string | null {
  return isRemovedProfileName(name) ? name.slice(0, -removedSuffix.length) : null;
}

/**
 * Re-points every record on `from` to `to` (a rename), in place: the account behind them is the
 * same, so its past requests are found under its new name by every reader (the dashboard's
 * filter and totals, `codex-lab log --profile`). Every field that names a profile moves: the
 * profile that served it, the one it was pinned to, the profiles the rule left (`why`), the
 * fallback chain, and the names the decision's sentence (`reason`) recorded it at
 * (`reasonNames`): the rest of the sentence is never touched, so a profile named like one of its
 * words (`limited`, `active`) leaves those words alone. `to: null` is a removal: the records name
 * `removedProfileName(from)`.
 */
export function repointRequests(
  records: Iterable<RequestRecord>,
  from: string,
  renamedTo: string | null,
): void {
  const to = renamedTo ?? removedProfileName(from);
  for (const record of records) {
    if (record.profile === from) record.profile = to;
    if (record.pinned === from) record.pinned = to;
    if (record.why && record.why.left.some((entry) => entry.profile === from)) {
      record.why = renamedWhy(record.why, from, to);
    }
    if (record.fallback.some((entry) => entry.profile === from)) {
      record.fallback = record.fallback.map((entry) =>
        entry.profile === from ? { ...entry, profile: to } : entry,
      );
    }
    const names = record.reasonNames;
    if (isReasonNames(names) && names.some((name) => name.profile === from)) {
      const reworded = renameInReason(record.reason, names, (name) => (name === from ? to : name));
      // A record whose names do not fit its sentence (a damaged line) keeps the sentence.
      if (reworded !== null) {
        record.reason = reworded.text;
        record.reasonNames = reworded.names;
      }
    }
  }
}

/**
 * `why` with `from` named `to` in the profiles it left (a rename: the same account). A profile
 * left because it was removed keeps its name: a profile named so later is another account.
 */
export function renamedWhy(why: RouteWhyView, from: string, to: string): RouteWhyView {
  return {
    ...why,
    left: why.left.map((entry) =>
      entry.profile === from && entry.code !== 'removed' ? { ...entry, profile: to } : entry,
    ),
  };
}

const endings = new Set<unknown>(['upstream_cut', 'upstream_error', 'client_gone']);
const rules = new Set<unknown>(['pin', 'session', 'active', 'cache', 'best']);
const pinSources = new Set<unknown>([null, 'header', 'session', 'repo']);

/**
 * Whether a journal record's `why` is shaped as the router writes it (the file may be older or
 * damaged): every reader of the journal (a restarted router's sessions, `codex-lab log`, the
 * request views) trusts it only then.
 */
export function isRouteWhy(value: unknown): value is RouteWhyView {
  if (typeof value !== 'object' || value === null) return false;
  const why = value as Partial<RouteWhyView>;
  return (
    rules.has(why.rule) &&
    pinSources.has(why.pin) &&
    Array.isArray(why.left) &&
    why.left.every(
      (entry: unknown) =>
        typeof entry === 'object' &&
        entry !== null &&
        typeof (entry as { profile?: unknown }).profile === 'string' &&
        typeof (entry as { code?: unknown }).code === 'string',
    )
  );
}

/**
 * The requests a journal holds (oldest first), its renames applied: each `rename` line re-points
 * the requests before it. Every reader of the file (the router on start, `codex-lab log`) uses it.
 */
export function requestsFromJournal(
  lines: readonly { type: string; [key: string]: unknown }[],
): RequestRecord[] {
  const requests: RequestRecord[] = [];
  for (const line of lines) {
    const { type, ...rest } = line;
    if (type === 'request') requests.push(rest as unknown as RequestRecord);
    else if (type === 'rename') {
      const { from, to } = rest as unknown as RequestRenameRecord;
      if (typeof from === 'string' && (typeof to === 'string' || to === null)) {
        repointRequests(requests, from, to);
      }
    }
  }
  return requests;
}

/** A fixed-size ring of requests with listeners. */
export class RequestLog {
  readonly #ring: (RequestRecord | undefined)[];
  #next = 0;
  #count = 0;
  #nextId = 1;
  readonly #listeners = new Set<(record: RequestRecord) => void>();
  readonly #renameListeners = new Set<(rename: RequestRenameRecord) => void>();

  constructor(capacity = defaultRequestCapacity) {
    this.#ring = new Array<RequestRecord | undefined>(Math.max(1, capacity));
  }

  /** Records one request (an id is assigned); O(1). */
  record(record: Omit<RequestRecord, 'id'>): RequestRecord {
    const stored = record as RequestRecord;
    stored.id = this.#nextId++;
    this.#put(stored);
    for (const listener of this.#listeners) {
      try {
        listener(stored);
      } catch {
        // A broken listener (journal, UI) must never break routing.
      }
    }
    return stored;
  }

  /** Puts back requests read from the journal (oldest first), without notifying listeners. */
  restore(records: readonly RequestRecord[]): void {
    for (const record of records) {
      this.#put(record);
      if (record.id >= this.#nextId) this.#nextId = record.id + 1;
    }
  }

  /** Subscribes to new requests; returns the unsubscribe function. */
  onRecord(listener: (record: RequestRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * A profile was renamed: its requests (and fallback chains) name `to` from now on, here and,
   * through the rename listeners, in the journal. `to: null`: it was removed, and its requests
   * name `removedProfileName(from)`.
   */
  rename(from: string, to: string | null, at: number): void {
    if (from === to) return;
    repointRequests(
      this.#ring.filter((record) => record !== undefined),
      from,
      to,
    );
    for (const listener of this.#renameListeners) {
      try {
        listener({ type: 'rename', from, to, at });
      } catch {
        // A broken listener must not break the rename.
      }
    }
  }

  /** Subscribes to renames; returns the unsubscribe function. */
  onRename(listener: (rename: RequestRenameRecord) => void): () => void {
    this.#renameListeners.add(listener);
    return () => this.#renameListeners.delete(listener);
  }

  /** The records, oldest first. */
  records(): RequestRecord[] {
    const out: RequestRecord[] = [];
    const length = this.#ring.length;
    for (let offset = this.#count; offset >= 1; offset--) {
      const record = this.#ring[(this.#next - offset + length) % length];
      if (record) out.push(record);
    }
    return out;
  }

  /** The newest `limit` requests matching `filter`, oldest first, as views. */
  list(limit = 200, filter: RequestFilter = {}): RequestView[] {
    return filterRequests(this.records(), filter).slice(-limit).map(toRequestView);
  }

  #put(record: RequestRecord): void {
    this.#ring[this.#next] = record;
    this.#next = (this.#next + 1) % this.#ring.length;
    if (this.#count < this.#ring.length) this.#count++;
  }
}

/** The records matching `filter`. */
export function filterRequests(
  records: readonly RequestRecord[],
  filter: RequestFilter,
): RequestRecord[] {
  return records.filter(
    (record) =>
      (filter.sessionId == null || record.sessionId === filter.sessionId) &&
      (filter.profile == null || record.profile === filter.profile) &&
      (filter.runId == null || record.runId === filter.runId) &&
      (filter.afterId === undefined || record.id > filter.afterId),
  );
}

/** A record as the contract's view (ISO time). */
export function toRequestView(record: RequestRecord): RequestView {
  // The account stamp, the blob digests and where the reason names profiles are the router's own
  // bookkeeping, not part of what surfaces show.
  const { account: _account, minted: _minted, reasonNames: _names, ...shown } = record;
  return {
    ...shown,
    at: new Date(record.at).toISOString(),
    pinned: record.pinned ?? null,
    ending: endings.has(record.ending) ? (record.ending as RequestEnding) : null,
    // A record from before the rule was kept (or a damaged one) has none: surfaces say its route.
    why: isRouteWhy(record.why) ? record.why : null,
    fallback: record.fallback.map(({ profile, reason }) => ({ profile, reason })),
  };
}

/** A view back as a record (for readers of the journal file). */
export function fromRequestView(view: RequestView): RequestRecord {
  return { ...view, at: Date.parse(view.at) };
}

/**
 * The journal's requests with a running router's newest ones (`live`, as its state gives them):
 * the router writes the journal in batches, so its last turns may not be in the file yet. A
 * request in both is the same request (one id per request, kept across restarts) and shows once,
 * as the router has it now (a rename it made may not be in the file yet either). Oldest first.
 */
export function withLiveRequests(
  journal: readonly RequestRecord[],
  live: readonly RequestView[],
): RequestRecord[] {
  const byId = new Map(journal.map((record) => [record.id, record]));
  for (const view of live) byId.set(view.id, fromRequestView(view));
  return [...byId.values()].sort((first, second) => first.id - second.id);
}

/** Local midnight of `now`'s day and of the Monday that starts its week. */
export function calendarStarts(now: number): { today: number; week: number } {
  const day = new Date(now);
  day.setHours(0, 0, 0, 0);
  const today = day.getTime();
  const sinceMonday = (day.getDay() + 6) % 7;
  day.setDate(day.getDate() - sinceMonday);
  return { today, week: day.getTime() };
}

/**
 * Requests and tokens per profile and per session, today and this week (local calendar), over
 * the requests the log still holds. Refused requests count as requests with no tokens.
 */
export function usageTotals(records: readonly RequestRecord[], now: number): UsageTotalsView {
  const { today, week } = calendarStarts(now);
  const buckets = {
    today: {
      profiles: new Map<string, UsageTotalView>(),
      sessions: new Map<string, UsageTotalView>(),
    },
    week: {
      profiles: new Map<string, UsageTotalView>(),
      sessions: new Map<string, UsageTotalView>(),
    },
  };
  const add = (map: Map<string, UsageTotalView>, key: string | null, record: RequestRecord) => {
    if (key === null) return;
    let total = map.get(key);
    if (!total) {
      total = { key, requests: 0, input: 0, output: 0, cached: 0 };
      map.set(key, total);
    }
    total.requests++;
    total.input += record.tokens?.input ?? 0;
    total.output += record.tokens?.output ?? 0;
    total.cached += record.tokens?.cached ?? 0;
  };
  for (const record of records) {
    if (record.at < week) continue;
    add(buckets.week.profiles, record.profile, record);
    add(buckets.week.sessions, record.sessionId, record);
    if (record.at < today) continue;
    add(buckets.today.profiles, record.profile, record);
    add(buckets.today.sessions, record.sessionId, record);
  }
  const sorted = (map: Map<string, UsageTotalView>) =>
    [...map.values()].sort((a, b) => b.requests - a.requests || a.key.localeCompare(b.key));
  return {
    today: { profiles: sorted(buckets.today.profiles), sessions: sorted(buckets.today.sessions) },
    week: { profiles: sorted(buckets.week.profiles), sessions: sorted(buckets.week.sessions) },
  };
}
