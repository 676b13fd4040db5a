/**
 * A per-profile circuit breaker for an account's upstream failures (5xx, streams cut mid-turn,
 * as the engine judges them). Codex already retries those itself; the breaker only stops the
 * router from sending every retry to the same failing account: a few failures in a short window
 * keep the profile out briefly, and a failed trial after that keeps it out longer. In memory
 * only — a restart is a fresh start.
 */

/** Tuning of a `CircuitBreaker`. */
export interface CircuitOptions {
  /** Failures within `windowMs` that open the circuit. Default 3. */
  threshold?: number;
  /** The window failures are counted in. Default 10 s. */
  windowMs?: number;
  /** How long the circuit first stays open. Default 30 s. */
  openMs?: number;
  /** The longest it stays open after repeated trips. Default 5 min. */
  maxOpenMs?: number;
}

interface CircuitState {
  failures: number;
  windowStart: number;
  openUntil: number | null;
  trips: number;
  /** When the first trip of this run opened the circuit (null before it). */
  firstTripAt: number | null;
}

/** Tracks upstream failures per profile and says when a profile's circuit is open. */
export class CircuitBreaker {
  readonly #states = new Map<string, CircuitState>();
  readonly #threshold: number;
  readonly #windowMs: number;
  readonly #openMs: number;
  readonly #maxOpenMs: number;

  constructor(options: CircuitOptions = {}) {
    this.#threshold = Math.max(1, options.threshold ?? 3);
    this.#windowMs = options.windowMs ?? 10_000;
    this.#openMs = options.openMs ?? 30_000;
    this.#maxOpenMs = options.maxOpenMs ?? 5 * 60_000;
  }

  /**
   * Notes a failure (a 5xx, a cut stream) at `now`. Returns the time the circuit is open until,
   * or null when it stays closed.
   */
  noteUpstreamFailure(profile: string, now: number): number | null {
    let state = this.#states.get(profile) ?? this.#fresh(profile, now);
    if (state.openUntil !== null && now < state.openUntil) return state.openUntil;
    if (this.#ended(state, now)) {
      // No request tried the profile for longer than its longest opening: that run is over, and
      // this failure is the first of a new one.
      state = this.#fresh(profile, now);
    }
    if (state.openUntil !== null) {
      // The trial request after an open period failed: reopen at once, for longer.
      return this.#trip(state, now);
    }
    if (now - state.windowStart > this.#windowMs) {
      state.failures = 0;
      state.windowStart = now;
    }
    state.failures += 1;
    if (state.failures >= this.#threshold) return this.#trip(state, now);
    return null;
  }

  /**
   * Opens the circuit at `now` for a profile whose failures were judged elsewhere (a run that
   * outlasted a shared outage); returns the time it closes. An open circuit stays as it is.
   */
  open(profile: string, now: number): number {
    let state = this.#states.get(profile);
    if (state === undefined || this.#ended(state, now)) state = this.#fresh(profile, now);
    if (state.openUntil !== null && now < state.openUntil) return state.openUntil;
    return this.#trip(state, now);
  }

  /** Notes a successful response: the profile's failure history is cleared. */
  noteSuccess(profile: string): void {
    this.#states.delete(profile);
  }

  /** When the profile's circuit is open at `now`: the time it closes; otherwise null. */
  circuitOpenUntil(profile: string, now: number): number | null {
    const openUntil = this.#states.get(profile)?.openUntil ?? null;
    return openUntil !== null && openUntil > now ? openUntil : null;
  }

  /**
   * When the profile's run of failures first opened its circuit, while the run lasts at `now`
   * (through the moments the circuit closes for a trial, until a success, `forget`, or a close
   * longer than the longest opening with no failure); otherwise null.
   */
  failingSince(profile: string, now: number): number | null {
    const state = this.#states.get(profile);
    return state === undefined || this.#ended(state, now) ? null : state.firstTripAt;
  }

  /** Forgets a profile (removed), or moves its state (renamed) when `to` is given. */
  forget(profile: string, to?: string): void {
    const state = this.#states.get(profile);
    this.#states.delete(profile);
    if (to !== undefined && state) this.#states.set(to, state);
  }

  /** A new run's state for `profile`, stored. */
  #fresh(profile: string, now: number): CircuitState {
    const state = { failures: 0, windowStart: now, openUntil: null, trips: 0, firstTripAt: null };
    this.#states.set(profile, state);
    return state;
  }

  /**
   * True when the circuit closed longer ago than its longest opening and nothing failed since: no
   * trial came (the profile got no request), so the run of failures is over, not waiting.
   */
  #ended(state: CircuitState, now: number): boolean {
    return state.openUntil !== null && now - state.openUntil > this.#maxOpenMs;
  }

  #trip(state: CircuitState, now: number): number {
    state.trips += 1;
    state.firstTripAt ??= now;
    const duration = Math.min(this.#openMs * 2 ** (state.trips - 1), this.#maxOpenMs);
    state.openUntil = now + duration;
    state.failures = 0;
    state.windowStart = now;
    return state.openUntil;
  }
}
