/**
 * The priming scheduler (docs/design.md section 5): off unless a profile turns priming on. It watches
 * each enabled profile's usage, and when a watched window is idle it claims (profile, window,
 * reset slot) and sends one tiny complete turn, with bounded retries, then confirms from the next
 * observation that the window started. Time, HTTP, tokens and usage come in as arguments.
 */
import { isLabError, LabError } from '../errors.ts';
import { formatDuration } from '../format.ts';
import type { FetchLike } from '../auth/http.ts';
import { readJsonFile, writeJsonFile } from '../home/files.ts';
import { withLock } from '../home/lock.ts';
import type { LabPaths } from '../home/paths.ts';
import { minute, second, silentLogger, type Cancel, type Clock, type Logger } from '../ports.ts';
import { parseLocalTime, type PrimingWindow } from '../profiles/schema.ts';
import type { PrimingOutcomeView } from '../view-types.ts';
import { HealthStore, type ProfileHealth } from '../state/health-store.ts';
import {
  primingFileSchema,
  type PrimingFile,
  type PrimingOutcome,
  type QuotaSnapshot,
} from '../state/schema.ts';
import {
  claimReplacingFailed,
  findRecentClaim,
  listClaims,
  pruneClaims,
  releaseClaim,
  saveClaim,
  tryClaim,
  type PrimingClaim,
} from './claims.ts';
import {
  assessWindow,
  decisiveLookGapMs,
  resetSlot,
  sampleWindow,
  windowLengthMs,
  type WindowAssessment,
  type WindowSample,
} from './detect.ts';
import { defaultChatGptBaseUrl } from '../config.ts';
import type { WorkspaceRoutes } from '../net/workspace-routing.ts';
import { cancelledByStop, isCancelled, throwIfStopped } from '../net/stop-signal.ts';
import { createUsageObserver } from './observe.ts';
import { exhaustedUntil, standingHealth } from '../quota/limit-marks.ts';
import { unknownProfile } from '../profiles/names.ts';
import {
  buildPrimeRequest,
  defaultPrimingModel,
  sendPrimeRequest,
  type PrimeCredentials,
  type PrimeRequest,
  type PrimeResult,
  type PrimingCredentialSource,
} from './request.ts';
import { outboundFetch } from '../net/outbound-fetch.ts';

/** A profile's priming settings, as `ProfileStore.listProfiles()` returns them. */
export interface PrimingProfile {
  name: string;
  priming: { enabled: boolean; windows: PrimingWindow[]; at: string | null; model: string | null };
}

/** The profiles the scheduler reads (a `ProfileStore` fits). */
export interface PrimingProfileSource {
  listProfiles(): Promise<PrimingProfile[]>;
}

/** Where the scheduler reads a profile's health (a `HealthStore` fits). */
export interface PrimingHealthSource {
  get(name: string, now: number): Promise<ProfileHealth>;
}

/** A refused priming turn's answer, as `onTurnRefused` gets it. */
export interface PrimeRefusal {
  status: number | null;
  body: string;
  headers: Record<string, string>;
}

/** One attempt or outcome, for the activity log. */
export interface PrimingEvent extends PrimingOutcome {
  profile: string;
}

/** What the scheduler is built from. */
export interface PrimingSchedulerOptions {
  paths: LabPaths;
  store: PrimingProfileSource;
  tokens: PrimingCredentialSource;
  /**
   * One fresh usage observation of a profile; default `GET {baseUrl}/wham/usage` with `fetch`
   * (recorded nowhere). A host passes its operations layer's read, which records it.
   */
  observeUsage?(name: string): Promise<QuotaSnapshot>;
  /** Sends a built priming request; defaults to `sendPrimeRequest` with `fetch`. */
  sendPrime?(request: PrimeRequest): Promise<PrimeResult>;
  /** Used by the default `sendPrime`; defaults to the global fetch. */
  fetch?: FetchLike;
  /**
   * The host's stop. `fetch` is expected to end with it (the caller binds them); once it aborts
   * the scheduler writes nothing more (no outcome, no claim) but for giving back the claim of the
   * attempt it cut short, so a later run may prime the window, and work it ended is `cancelled`.
   */
  signal?: AbortSignal;
  /** ChatGPT backend base URL; default `https://chatgpt.com/backend-api`. */
  baseUrl?: string;
  /**
   * Each profile's workspace routing, shared with the router. Required: a scheduler without it
   * would build a residency account's request without its override (`unconstrained` for none).
   */
  workspaces: Pick<WorkspaceRoutes, 'routingFor'>;
  clock: Clock;
  /** Uniform in [0, 1), for backoff jitter and the spread of priming times. */
  random?: () => number;
  logger?: Logger;
  /** True while the router is serving a live Codex session on this profile. */
  isServingLiveSession?(name: string): boolean | Promise<boolean>;
  onEvent?(event: PrimingEvent): void;
  /**
   * A usage read for `name` was refused even with a fresh token: the router counts it as it
   * counts a refused turn, so priming's reads stop spending the refresh token every poll.
   */
  onUsageRefused?(name: string, error: LabError): void;
  /**
   * A priming turn for `name` was refused for its account (a 429 usage limit, or a 401 even after
   * a refresh): the router marks it as it marks a routed turn refused so (limited until the reset,
   * a per-model family only for that family; needs sign-in), so it is not the next pick.
   */
  onTurnRefused?(name: string, refusal: PrimeRefusal): void;
  /** Defaults to `HealthStore` on `paths`. */
  health?: PrimingHealthSource;
  /**
   * The newest usage figures held for `name` (the router's or the CLI's quota book), or null.
   * An account they show used up is skipped without asking the upstream, as a limit mark is.
   */
  latestQuota?(name: string): QuotaSnapshot | null;
  /** Attempts per window, first one included. Default 4. */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt. Default 30 s. */
  retryBaseMs?: number;
  /** How often usage is observed while nothing is due sooner. Default 15 min. */
  pollIntervalMs?: number;
  /** How soon to look again after an ambiguous or post-prime observation. Default 1 min. */
  followUpMs?: number;
  /**
   * An idle window is primed a random 0 to `spreadMs` after it is found idle (or after its
   * `priming.at`), then only if a fresh look still finds it idle. Default 5 min, at most
   * `pollIntervalMs`.
   */
  spreadMs?: number;
  /**
   * False for one-shot callers (the `prime` command): a failed attempt is not retried later and
   * its claim is released so the running scheduler may try again. Default true.
   */
  retryInBackground?: boolean;
  /** Distinguishes scheduler instances in claims and logs. */
  instanceId?: string;
}

/** How many log lines per profile `state/priming.json` keeps. */
export const primingLogLength = 20;

/** A primed window that is still idle this long after the turn did not start. */
const confirmGraceMs = 2 * minute;

/**
 * The longest one timer of the scheduler runs. Timers run on the monotonic clock, which stops while
 * the machine sleeps and ignores clock changes, so after a wake-up a due check is at most this late.
 */
const wakeStepMs = minute;

/** Default `spreadMs`. */
const defaultSpreadMs = 5 * minute;

/** Why an account that needs a new sign-in is not primed. */
const needsSignInReason = 'it needs to sign in again';

/** Why a limited account is not primed (the timer's and `prime`'s one rule); `prime` exits 1 on it. */
export const usageLimitSkip = 'it is at its usage limit';

/** True when a fresh look shows the account used up: reported reached, or a window at 100 %. */
function limitedNow(snapshot: QuotaSnapshot, now: number): boolean {
  return snapshot.limitReached === true || exhaustedUntil(snapshot, now) !== null;
}

/** Why `prime` would send nothing for an account in `health` (it needs a new sign-in), or undefined. */
function signInReason(health: { status: string }): string | undefined {
  return health.status === 'auth_error' ? needsSignInReason : undefined;
}

/** Claims older than this are pruned. */
const claimRetentionMs = 5 * windowLengthMs.weekly;

type Mode = 'timer' | 'manual';

interface Pending {
  claim: PrimingClaim;
  primedAt: number;
}

/** Opt-in priming of idle quota windows; see docs/priming.md. */
export class PrimingScheduler {
  readonly #options: PrimingSchedulerOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #health: PrimingHealthSource;
  readonly #maxAttempts: number;
  readonly #retryBaseMs: number;
  readonly #pollIntervalMs: number;
  readonly #followUpMs: number;
  readonly #spreadMs: number;
  readonly #owner: string;
  readonly #observeUsage: (name: string) => Promise<QuotaSnapshot>;
  readonly #samples = new Map<string, WindowSample>();
  readonly #pending = new Map<string, Pending>();
  readonly #retries = new Map<string, Cancel>();
  /**
   * Per window found idle: the wall-clock time from which it may be primed, and the `priming.at`
   * it was computed from. Compared with `clock.now()` at every check, never kept as a timer.
   */
  readonly #sendAfter = new Map<string, { at: string | null; due: number }>();
  readonly #inflight = new Set<Promise<unknown>>();
  #tickRunning: Promise<void> | undefined;
  #recording: Promise<void> = Promise.resolve();
  /** The first outcome that could not be written to `state/priming.json`, for `primeNow`. */
  #unrecorded: unknown = null;
  #tickTimer: Cancel | undefined;
  #started = false;
  #followUpWanted = false;
  /** Per profile: nothing can become idle before this time (its windows run until their reset). */
  readonly #quietUntil = new Map<string, number>();
  #lastPruneAt = 0;

  constructor(options: PrimingSchedulerOptions) {
    this.#options = options;
    this.#clock = options.clock;
    this.#logger = (options.logger ?? silentLogger).child({ module: 'priming' });
    this.#random = options.random ?? Math.random;
    this.#health = options.health ?? new HealthStore(options.paths);
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.#retryBaseMs = options.retryBaseMs ?? 30 * second;
    this.#pollIntervalMs = options.pollIntervalMs ?? 15 * minute;
    this.#followUpMs = options.followUpMs ?? minute;
    this.#spreadMs = Math.max(
      0,
      Math.min(options.spreadMs ?? defaultSpreadMs, this.#pollIntervalMs),
    );
    this.#observeUsage =
      options.observeUsage?.bind(options) ??
      createUsageObserver({
        tokens: options.tokens,
        baseUrl: options.baseUrl ?? defaultChatGptBaseUrl,
        clock: options.clock,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
    this.#owner = options.instanceId ?? `pid-${process.pid}-${Math.floor(this.#random() * 1e9)}`;
  }

  /** Starts the timer: a first check now, then one per poll interval or sooner when due. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#track(this.#timedTick());
  }

  /** Stops every timer; attempts already sending finish on their own. */
  stop(): void {
    this.#started = false;
    this.#tickTimer?.();
    this.#tickTimer = undefined;
    for (const cancel of this.#retries.values()) cancel();
    this.#retries.clear();
  }

  /** The first error writing an outcome to `state/priming.json` met, or null. */
  get unrecorded(): unknown {
    return this.#unrecorded;
  }

  /** Resolves once every check, attempt and retry started so far has finished. */
  async settled(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  /** One pass over the profiles with priming on. Concurrent calls share the running pass. */
  async tick(): Promise<void> {
    if (this.#tickRunning) return this.#tickRunning;
    const running = this.#runTick().finally(() => {
      this.#tickRunning = undefined;
    });
    this.#tickRunning = running;
    return running;
  }

  /**
   * Primes `name` now, even when its priming is off (an explicit request), unless its windows
   * are visibly running. With `dryRun` nothing is sent: the outcome says what would be.
   */
  async primeNow(name: string, options: { dryRun?: boolean } = {}): Promise<PrimingOutcome> {
    const profile = await this.#findProfile(name);
    // The registry's schema holds at least one window (an empty list is refused there).
    const windows = profile.priming.windows;
    const window = windows[0]!;
    if (options.dryRun) {
      // As `prime` would: an account that needs a sign-in sends nothing (no token is refreshed).
      const blocked = await this.signInNeeded(name);
      if (blocked) return this.#record(name, this.#outcome(window, 'skipped', blocked));
      const request = await this.buildRequest(name);
      const body = JSON.parse(request.body) as { model: string };
      return this.#record(name, {
        at: this.#clock.now(),
        window,
        outcome: 'dry_run',
        message: `would send ${request.method} ${request.url} with model ${body.model}; nothing was sent`,
      });
    }
    const skip = await this.#skipReason(name);
    if (skip) return this.#record(name, this.#outcome(window, 'skipped', skip));
    const snapshot = await this.#observe(name);
    if (!snapshot) {
      return this.#record(name, this.#outcome(window, 'failed', 'could not read its usage'));
    }
    // The timer's rule: a look that shows the account used up sends nothing (it would get a 429).
    if (limitedNow(snapshot, this.#clock.now())) {
      return this.#record(name, this.#outcome(window, 'skipped', usageLimitSkip));
    }
    let result: PrimingOutcome | undefined;
    for (const each of windows) {
      const sample = sampleWindow(snapshot, each);
      if (!sample) continue;
      // One completed turn starts every idle window of the account.
      if (result?.outcome === 'primed') break;
      const verdict = this.#assess(name, each, sample);
      if (verdict.state === 'started') {
        // A priming of this window still waiting to be seen working (a one-shot before this
        // one, or a run before a restart) is confirmed by this look, as a timer check would;
        // that outcome says more than "already started", so it is the one kept and returned.
        const confirmed = await this.#confirm(name, each, sample);
        if (confirmed) {
          if (!result || result.outcome === 'skipped') result = confirmed;
          continue;
        }
        const outcome = this.#outcome(
          each,
          'skipped',
          `the ${label(each)} window already started (${verdict.reason})`,
        );
        result ??= this.#record(name, outcome);
        continue;
      }
      const outcome = await this.#prime(profile, each, 'manual');
      if (!result || result.outcome === 'skipped') result = outcome;
    }
    return (
      result ?? this.#record(name, this.#outcome(window, 'skipped', 'no quota window to prime'))
    );
  }

  /**
   * Why `prime` would send nothing for `name` whatever the upstream says (it needs a new sign-in),
   * or undefined. A dry run says this rather than show a request.
   */
  async signInNeeded(name: string): Promise<string | undefined> {
    return signInReason(await this.#health.get(name, this.#clock.now()));
  }

  /** The exact request priming would send for `name` (with its real credentials). */
  async buildRequest(name: string): Promise<PrimeRequest> {
    const profile = await this.#findProfile(name);
    return this.#requestFor(profile, await this.#options.tokens.getCredentials(name));
  }

  /** The one builder of a profile's priming request: what `prime` sends and `--dry-run` shows. */
  async #requestFor(profile: PrimingProfile, credentials: PrimeCredentials): Promise<PrimeRequest> {
    return buildPrimeRequest({
      baseUrl: this.#options.baseUrl ?? defaultChatGptBaseUrl,
      credentials,
      model: profile.priming.model,
      // The profile's workspace routing, as its turns get it.
      routing: await this.#options.workspaces.routingFor(profile.name, credentials.accountId),
    });
  }

  async #timedTick(): Promise<void> {
    try {
      await this.tick();
    } catch (error) {
      // A stop ended the check: nothing went wrong.
      if (isCancelled(error)) return;
      this.#logger.error({ err: describeError(error) }, 'priming check failed');
    }
    this.#scheduleNextTick();
  }

  #scheduleNextTick(): void {
    if (!this.#started) return;
    const now = this.#clock.now();
    let delay = this.#pollIntervalMs;
    if (this.#followUpWanted) delay = Math.min(delay, this.#followUpMs);
    // Every Code's trick: look again just after a known reset, so an idle window is caught early;
    // and at the time an idle window may be primed.
    const due = [
      ...this.#quietUntil.values(),
      ...[...this.#sendAfter.values()].map((plan) => plan.due),
    ];
    for (const until of due) {
      if (until > now) delay = Math.min(delay, until - now);
    }
    this.#arm(delay);
  }

  /**
   * Runs the next check `delayMs` from now. The due times above are wall-clock times, but timers
   * run on the monotonic clock (stopped during a suspend, deaf to clock changes): so the wait is
   * cut in steps of at most `wakeStepMs`, each of which reads the wall clock. The check runs once
   * the wall clock reaches the target (after a suspend or a clock set forward, at most one step
   * late) or once the timers waited the whole delay (after a clock set back, that check finds
   * nothing due early and arms the rest).
   */
  #arm(delayMs: number): void {
    this.#tickTimer?.();
    const target = this.#clock.now() + Math.max(0, delayMs);
    let waited = 0;
    const step = (): void => {
      const wait = Math.max(0, Math.min(wakeStepMs, delayMs - waited, target - this.#clock.now()));
      this.#tickTimer = this.#clock.setTimeout(() => {
        waited += wait;
        if (this.#clock.now() >= target || waited >= delayMs) this.#track(this.#timedTick());
        else step();
      }, wait);
    };
    step();
  }

  async #runTick(): Promise<void> {
    this.#followUpWanted = false;
    const profiles = (await this.#options.store.listProfiles()).filter((p) => p.priming.enabled);
    const enabled = new Set(profiles.map((profile) => profile.name));
    // Turning priming off and on again starts from a fresh look.
    for (const name of this.#quietUntil.keys())
      if (!enabled.has(name)) this.#quietUntil.delete(name);
    for (const key of this.#sendAfter.keys())
      if (!enabled.has(nameOf(key))) this.#sendAfter.delete(key);
    // (A retry planned before priming was turned off reads the profile again when it fires,
    // and sends nothing: see `#retry`.)
    const now = this.#clock.now();
    for (const profile of profiles) {
      this.#throwIfStopped();
      // A running window cannot go idle before its reset, so its usage need not be asked sooner.
      if ((this.#quietUntil.get(profile.name) ?? 0) > now) continue;
      try {
        await this.#checkProfile(profile);
      } catch (error) {
        if (isCancelled(error)) throw error;
        this.#logger.warn(
          { profile: profile.name, err: describeError(error) },
          'priming check failed',
        );
      }
    }
    this.#throwIfStopped();
    if (now - this.#lastPruneAt > windowLengthMs.five_hour) {
      this.#lastPruneAt = now;
      await pruneClaims(this.#options.paths, now - claimRetentionMs).catch(() => 0);
    }
  }

  async #checkProfile(profile: PrimingProfile): Promise<void> {
    const name = profile.name;
    this.#quietUntil.delete(name);
    const skip = await this.#skipReason(name);
    if (skip) {
      this.#logger.debug({ profile: name, reason: skip }, 'priming skipped');
      return;
    }
    const snapshot = await this.#observe(name);
    if (!snapshot) return;
    if (limitedNow(snapshot, this.#clock.now())) {
      this.#logger.debug({ profile: name }, 'priming skipped: usage limit reached');
      return;
    }
    // Each window says until when it surely needs nothing; null means "look again soon".
    const quiet: Array<number | null> = [];
    const sent = { primed: false };
    for (const window of profile.priming.windows) {
      quiet.push(await this.#checkWindow(profile, window, snapshot, sent));
    }
    if (quiet.length > 0 && quiet.every((until) => until !== null)) {
      this.#quietUntil.set(name, Math.min(...(quiet as number[])));
    }
  }

  async #checkWindow(
    profile: PrimingProfile,
    window: PrimingWindow,
    snapshot: QuotaSnapshot,
    sent: { primed: boolean },
  ): Promise<number | null> {
    const name = profile.name;
    const sample = sampleWindow(snapshot, window);
    if (!sample) return null;
    const verdict = this.#assess(name, window, sample);
    const key = keyOf(name, window);
    const nextSlot = resetSlot(window, this.#clock.now()) * 1000 + windowLengthMs[window];
    if (verdict.state === 'started') {
      // Running (primed here, elsewhere or by a turn): the next idle period is planned afresh.
      this.#sendAfter.delete(key);
      await this.#confirm(name, window, sample);
      return sample.resetsAt === null ? null : sample.resetsAt + second;
    }
    const pending = this.#pending.get(key);
    if (pending) {
      if (sample.observedAt - pending.primedAt < confirmGraceMs) {
        this.#followUpWanted = true;
        return null;
      }
      this.#pending.delete(key);
      await this.#saveClaim({
        ...pending.claim,
        state: 'failed',
        message: 'the window did not start',
      });
      this.#record(
        name,
        this.#outcome(
          window,
          'failed',
          `the priming turn completed but the ${label(window)} window did not start`,
        ),
      );
      return nextSlot;
    }
    // A window found idle before is primed at its planned time unless a look shows it started:
    // a look within seconds of the idle one cannot tell more, and is no reason to wait again.
    if (verdict.state === 'unknown' && !this.#sendAfter.has(key)) {
      this.#followUpWanted = true;
      return null;
    }
    if (this.#retries.has(key)) return null;
    if (sent.primed) {
      // One completed turn starts every idle window of the account: look again instead.
      this.#followUpWanted = true;
      return null;
    }
    // Idle: primed at the planned time, by the check that finds it still idle then (this one
    // when that time has come), so what is sent always follows a fresh look.
    const due = this.#sendTime(profile, window);
    if (due > this.#clock.now()) return due;
    this.#sendAfter.delete(key);
    const outcome = await this.#prime(profile, window, 'timer');
    if (outcome.outcome === 'primed') sent.primed = true;
    if (outcome.outcome === 'primed' || this.#retries.has(key)) return null;
    // Claimed elsewhere or given up: this slot is settled, the next one may try again.
    return nextSlot;
  }

  #assess(name: string, window: PrimingWindow, sample: WindowSample | null): WindowAssessment {
    if (!sample) return { state: 'unknown', reason: 'the upstream does not report this window' };
    const key = keyOf(name, window);
    const previous = this.#samples.get(key) ?? null;
    // Detection needs two looks far enough apart to tell: looks closer together than that (a
    // short poll period, a follow-up) keep the older one, or no pair would ever be far enough.
    if (previous === null || sample.observedAt - previous.observedAt > decisiveLookGapMs) {
      this.#samples.set(key, sample);
    }
    return assessWindow(previous, sample);
  }

  /**
   * When an idle window may be primed: at the next local `priming.at` (or now), plus a random
   * 0 to `spreadMs`, so two homes signed in to one account, which both look just after its reset,
   * do not both send: the later one's look finds the window started. Planned once per idle period.
   */
  #sendTime(profile: PrimingProfile, window: PrimingWindow): number {
    const key = keyOf(profile.name, window);
    const at = profile.priming.at;
    const planned = this.#sendAfter.get(key);
    if (planned && planned.at === at) return planned.due;
    const now = this.#clock.now();
    let from = now;
    if (at !== null) {
      const next = nextLocalTime(now, at);
      if (next === null) {
        this.#logger.warn(
          { profile: profile.name, at },
          'priming.at is not HH:MM; priming as soon as idle',
        );
      } else {
        from = next;
      }
    }
    const due = from + Math.floor(this.#random() * this.#spreadMs);
    this.#sendAfter.set(key, { at, due });
    return due;
  }

  /** Confirms a priming of this window waiting to be seen working; its outcome, if there was one. */
  async #confirm(
    name: string,
    window: PrimingWindow,
    sample: WindowSample,
  ): Promise<PrimingOutcome | undefined> {
    const key = keyOf(name, window);
    let pending = this.#pending.get(key);
    if (!pending) {
      // After a restart the claim still says "primed": confirm it from this observation.
      const claim = (await listClaims(this.#options.paths, { profile: name, window })).find(
        (entry) => entry.state === 'primed',
      );
      if (!claim) return undefined;
      pending = { claim, primedAt: claim.lastAttemptAt ?? claim.claimedAt };
    }
    this.#pending.delete(key);
    const resets =
      sample.resetsAt === null ? '' : `; it resets at ${new Date(sample.resetsAt).toISOString()}`;
    await this.#saveClaim({ ...pending.claim, state: 'confirmed', message: `started${resets}` });
    return this.#record(
      name,
      this.#outcome(window, 'confirmed', `the ${label(window)} window started${resets}`),
    );
  }

  async #prime(
    profile: PrimingProfile,
    window: PrimingWindow,
    mode: Mode,
  ): Promise<PrimingOutcome> {
    const name = profile.name;
    const now = this.#clock.now();
    // A window primed less than half a window ago cannot be idle yet, whichever slot now is in.
    const recent = await findRecentClaim(
      this.#options.paths,
      name,
      window,
      now - windowLengthMs[window] / 2,
    );
    if (recent?.state === 'sending' || recent?.state === 'retrying') {
      // Nothing is primed yet: say what is under way, and record nothing, so the attempt's own
      // outcome (a failure waiting to be retried, say) stays the last one every surface shows.
      const doing = recent.state === 'retrying' ? `retrying after ${recent.message}` : 'sending';
      const message = `a priming of ${name} is already under way (${doing})`;
      this.#logger.debug({ profile: name, window }, message);
      return { ...this.#outcome(window, 'skipped', message), underWay: true };
    }
    if (recent) {
      const message = `already primed at ${new Date(recent.lastAttemptAt ?? recent.claimedAt).toISOString()} (${recent.state})`;
      this.#logger.debug({ profile: name, window }, message);
      return mode === 'manual'
        ? this.#record(name, this.#outcome(window, 'skipped', message))
        : this.#outcome(window, 'skipped', message);
    }
    this.#throwIfStopped();
    const init = { profile: name, window, slot: resetSlot(window, now), owner: this.#owner, now };
    // An explicit request may retry a window a failed attempt left claimed (nothing started it);
    // the timer leaves a failed slot alone, so a failure is not sent again every poll.
    const claim =
      mode === 'manual'
        ? await claimReplacingFailed(this.#options.paths, init)
        : await tryClaim(this.#options.paths, init);
    if (!claim) {
      const message = `this ${label(window)} window is already claimed by another run`;
      this.#logger.debug({ profile: name, window }, message);
      return mode === 'manual'
        ? this.#record(name, this.#outcome(window, 'skipped', message))
        : this.#outcome(window, 'skipped', message);
    }
    return this.#attempt(profile, window, claim);
  }

  async #attempt(
    profile: PrimingProfile,
    window: PrimingWindow,
    claimed: PrimingClaim,
  ): Promise<PrimingOutcome> {
    const name = profile.name;
    const key = keyOf(name, window);
    const attempt = claimed.attempts + 1;
    const startedAt = this.#clock.now();
    let claim: PrimingClaim = {
      ...claimed,
      state: 'sending',
      attempts: attempt,
      lastAttemptAt: startedAt,
      nextAttemptAt: null,
      message: `attempt ${attempt} sending`,
    };
    await this.#saveClaim(claim);
    const model = profile.priming.model ?? defaultPrimingModel;
    let result: PrimeResult;
    try {
      const credentials = await this.#options.tokens.getCredentials(name);
      result = await this.#send(await this.#requestFor(profile, credentials));
      // A refused token spends nothing upstream: refresh the sign-in once and send again, as
      // every other request of the profile does (a usage read, a routed turn).
      const refresh = this.#options.tokens.refreshAfterUnauthorized?.bind(this.#options.tokens);
      if (!result.ok && result.status === 401 && refresh) {
        const fresh = await refresh(name, credentials.accessToken);
        result = await this.#send(await this.#requestFor(profile, fresh));
      }
    } catch (error) {
      if (!isLabError(error)) throw error;
      result = { ok: false, status: null, kind: 'auth', message: error.message };
    }
    if (!result.ok && (result.kind === 'limited' || result.status === 401) && result.answer) {
      // Said of the account, not of this turn: the host marks it as a routed turn's refusal.
      this.#options.onTurnRefused?.(name, { status: result.status, ...result.answer });
    }
    if (this.#options.signal?.aborted === true) {
      // The stop cut the turn short: whether it started the window is unknown, and the next run
      // looks before it primes. The claim goes back so that run may; nothing is recorded.
      await releaseClaim(this.#options.paths, claim);
      throw cancelledByStop(`the priming of ${name}`);
    }
    const of = `attempt ${attempt} of ${this.#maxAttempts}`;
    if (result.ok) {
      claim = { ...claim, state: 'primed', message: `primed with ${result.model ?? model}` };
      await this.#saveClaim(claim);
      this.#pending.set(key, { claim, primedAt: this.#clock.now() });
      this.#followUpWanted = true;
      this.#scheduleFollowUp();
      return this.#record(
        name,
        this.#outcome(
          window,
          'primed',
          `sent a priming turn to the ${label(window)} window with ${result.model ?? model} (${of}); waiting to confirm it started`,
        ),
      );
    }
    const retryable = result.kind !== 'auth' && result.kind !== 'limited';
    if (retryable && attempt < this.#maxAttempts && this.#options.retryInBackground !== false) {
      const delay = this.#backoff(attempt);
      claim = {
        ...claim,
        state: 'retrying',
        nextAttemptAt: this.#clock.now() + delay,
        message: result.message,
      };
      await this.#saveClaim(claim);
      const cancel = this.#clock.setTimeout(() => {
        this.#retries.delete(key);
        this.#track(this.#retry(name, window, claim));
      }, delay);
      this.#retries.set(key, cancel);
      return this.#record(
        name,
        this.#outcome(
          window,
          'failed',
          `${of} failed: ${result.message}; retrying in ${formatDuration(delay)}`,
        ),
      );
    }
    if (this.#options.retryInBackground === false) {
      // A one-shot run cannot retry later, and a failed turn started nothing: the window is left
      // to the running scheduler or the next try (after a sign-in, say), never held for the slot.
      await releaseClaim(this.#options.paths, claim);
      const why = retryable ? `${of} failed` : 'not retried';
      return this.#record(name, this.#outcome(window, 'failed', `${why}: ${result.message}`));
    }
    claim = { ...claim, state: 'failed', message: result.message };
    await this.#saveClaim(claim);
    const why = retryable ? `gave up after ${attempt} attempts` : 'not retried';
    return this.#record(name, this.#outcome(window, 'failed', `${why}: ${result.message}`));
  }

  /**
   * A planned retry, when its time comes: read again first. The user may have turned priming off
   * since (then nothing is sent without their opt-in), the account may have lost its sign-in or
   * reached its limit, or its window may have started; then the claim is let go and the retry is
   * said to be skipped.
   */
  async #retry(name: string, window: PrimingWindow, claim: PrimingClaim): Promise<PrimingOutcome> {
    this.#throwIfStopped();
    const fresh = (await this.#options.store.listProfiles()).find((p) => p.name === name);
    const skip =
      fresh === undefined
        ? 'the profile is gone'
        : fresh.priming.enabled
          ? await this.#skipReason(name)
          : 'priming was turned off';
    if (fresh === undefined || skip !== undefined) {
      await releaseClaim(this.#options.paths, claim);
      return this.#record(name, this.#outcome(window, 'skipped', `not retried: ${skip}`));
    }
    // A fresh look first: another home signed in to this account, or a turn, may have started
    // the window since the failed attempt. (A failed look leaves the retry as planned.)
    const snapshot = await this.#observe(name);
    // A stop ended the look: the claim stays as planned (`retrying`), as across a restart.
    this.#throwIfStopped();
    const sample = snapshot ? sampleWindow(snapshot, window) : null;
    const verdict = sample ? this.#assess(name, window, sample) : null;
    if (verdict?.state === 'started') {
      await releaseClaim(this.#options.paths, claim);
      const why = `the ${label(window)} window already started (${verdict.reason})`;
      return this.#record(name, this.#outcome(window, 'skipped', `not retried: ${why}`));
    }
    return this.#attempt(fresh, window, claim);
  }

  async #send(request: PrimeRequest): Promise<PrimeResult> {
    if (this.#options.sendPrime) return this.#options.sendPrime(request);
    const fetch = this.#options.fetch ?? outboundFetch;
    return sendPrimeRequest(fetch, request);
  }

  /** Exponential backoff with up to +25 % jitter, so delays grow strictly and never align. */
  #backoff(attempt: number): number {
    const base = this.#retryBaseMs * 2 ** (attempt - 1);
    return Math.round(Math.min(base, 30 * minute) * (1 + 0.25 * this.#random()));
  }

  #scheduleFollowUp(): void {
    if (!this.#started) return;
    this.#arm(this.#followUpMs);
  }

  async #skipReason(name: string): Promise<string | undefined> {
    // One read of the health file: the sign-in rule is `signInReason`, as `signInNeeded` says it.
    const now = this.#clock.now();
    const health = await this.#health.get(name, now);
    const signIn = signInReason(health);
    if (signIn) return signIn;
    // Limited by a mark or by the newest figures held (`standingHealth`, as every surface shows
    // it): skipped without a usage read, which could only say so again.
    const latest = this.#options.latestQuota?.(name) ?? null;
    if (standingHealth(health, latest, now).status === 'limited') return usageLimitSkip;
    if (this.#options.isServingLiveSession && (await this.#options.isServingLiveSession(name))) {
      return 'it is serving a live Codex session, which starts its windows anyway';
    }
    return undefined;
  }

  async #observe(name: string): Promise<QuotaSnapshot | undefined> {
    try {
      return await this.#observeUsage(name);
    } catch (error) {
      // A stop ended the look: the check ends with it, not as a failed look.
      if (isCancelled(error)) throw error;
      if (isLabError(error) && error.details?.['freshTokenRefused'] === true) {
        this.#options.onUsageRefused?.(name, error);
      }
      this.#logger.warn(
        { profile: name, err: describeError(error) },
        'could not read usage for priming',
      );
      return undefined;
    }
  }

  async #findProfile(name: string): Promise<PrimingProfile> {
    const profiles = await this.#options.store.listProfiles();
    const profile = profiles.find((entry) => entry.name === name);
    if (!profile) {
      throw unknownProfile(
        name,
        profiles.map((entry) => entry.name),
      );
    }
    return profile;
  }

  async #saveClaim(claim: PrimingClaim): Promise<void> {
    this.#throwIfStopped();
    await saveClaim(this.#options.paths, claim);
  }

  /** Throws `cancelled` once the host's stop has aborted: what follows would write. */
  #throwIfStopped(): void {
    throwIfStopped(this.#options.signal, 'priming');
  }

  #outcome(
    window: PrimingWindow,
    outcome: PrimingOutcome['outcome'],
    message: string,
  ): PrimingOutcome {
    return { at: this.#clock.now(), window, outcome, message };
  }

  /** Appends to `state/priming.json` (in the background, in order) and tells `onEvent`. */
  #record(name: string, outcome: PrimingOutcome): PrimingOutcome {
    // An outcome reached after a stop (a look or turn it ended) is not what happened upstream.
    if (this.#options.signal?.aborted === true) throw cancelledByStop(`the priming of ${name}`);
    this.#recording = this.#recording
      .then(() => recordPrimingOutcome(this.#options.paths, name, outcome))
      .catch((error: unknown) => {
        this.#unrecorded ??= error;
        // A one-shot prime hands it to its caller (`primeNow` throws it); the timer has the log.
        if (this.#options.retryInBackground === false) return;
        this.#logger.warn(
          { profile: name, err: describeError(error) },
          'could not record priming outcome',
        );
      });
    this.#track(this.#recording);
    this.#logger.info(
      { profile: name, window: outcome.window, outcome: outcome.outcome },
      outcome.message,
    );
    this.#options.onEvent?.({ profile: name, ...outcome });
    return outcome;
  }

  #track(work: Promise<unknown>): void {
    const tracked = work
      .catch((error: unknown) => {
        if (isCancelled(error)) return;
        this.#logger.error({ err: describeError(error) }, 'priming work failed');
      })
      .finally(() => this.#inflight.delete(tracked));
    this.#inflight.add(tracked);
  }
}

/** What the one-shot `primeNow` takes: the scheduler's options plus the profile. */
export type PrimeNowOptions = Omit<PrimingSchedulerOptions, 'retryInBackground'> & {
  profile: string;
  dryRun?: boolean;
};

/**
 * Primes one profile once, for callers without a running scheduler (the service's "prime now",
 * the CLI). Failed attempts are not retried here; their claim is released for the timer. Throws
 * when the outcome could not be written to `state/priming.json`.
 */
export async function primeNow(options: PrimeNowOptions): Promise<PrimingOutcomeView> {
  const scheduler = new PrimingScheduler({ ...options, retryInBackground: false });
  const outcome = await scheduler.primeNow(options.profile, { dryRun: options.dryRun ?? false });
  await scheduler.settled();
  // An outcome that is not on file is lost to the timer (it would prime the window again) and to
  // every surface, so the one-shot fails with what happened and why it was not kept.
  const unrecorded = scheduler.unrecorded;
  if (unrecorded !== null) {
    throw new LabError(
      isLabError(unrecorded) ? unrecorded.code : 'io_error',
      `${options.profile} (${outcome.window === 'weekly' ? 'weekly' : '5-hour'}): ${outcome.outcome}, but the outcome could not be recorded: ${(unrecorded as Error).message}`,
      { cause: unrecorded },
    );
  }
  return toOutcomeView(outcome);
}

/** A stored outcome as the contract shows it (ISO time). */
export function toOutcomeView(outcome: PrimingOutcome): PrimingOutcomeView {
  return { ...outcome, at: new Date(outcome.at).toISOString() };
}

/** Appends one outcome to a profile's entry in `state/priming.json` under the `priming` lock. */
export async function recordPrimingOutcome(
  paths: LabPaths,
  name: string,
  outcome: PrimingOutcome,
): Promise<void> {
  await withLock(paths.locksDir, 'priming', async () => {
    const file: PrimingFile = (await readJsonFile(paths.priming, primingFileSchema)) ?? {
      version: 1,
      profiles: {},
    };
    const entry = file.profiles[name] ?? { last: null, log: [] };
    entry.last = outcome;
    entry.log = [...entry.log, outcome].slice(-primingLogLength);
    file.profiles[name] = entry;
    await writeJsonFile(paths.priming, file);
  });
}

/** Reads `state/priming.json` (empty when missing). */
export async function readPrimingFile(paths: LabPaths): Promise<PrimingFile> {
  return (await readJsonFile(paths.priming, primingFileSchema)) ?? { version: 1, profiles: {} };
}

/** The next time (Unix ms, at or after `now`) the local clock reads `HH:MM`, or null if malformed. */
export function nextLocalTime(now: number, at: string): number | null {
  const time = parseLocalTime(at);
  if (!time) return null;
  const due = new Date(now);
  due.setHours(time.hours, time.minutes, 0, 0);
  if (due.getTime() < now) due.setDate(due.getDate() + 1);
  return due.getTime();
}

function keyOf(name: string, window: PrimingWindow): string {
  return `${name}\u0000${window}`;
}

function nameOf(key: string): string {
  return key.slice(0, key.indexOf('\u0000'));
}

function label(window: PrimingWindow): string {
  return window === 'weekly' ? 'weekly' : '5-hour';
}

function describeError(error: unknown): string {
  return isLabError(error)
    ? `${error.code}: ${error.message}`
    : String((error as Error)?.message ?? error);
}
