/**
 * The router's local bearer token: 32 random bytes, created once, stored 0600 at
 * `paths.routerToken`, and compared in constant time. Local clients (Codex, the CLI, the web
 * dashboard) present it; the upstream never sees it. `codex-lab token --rotate` replaces it:
 * `RouterTokens` is the one place that decides which tokens a running router accepts (the new one
 * at once, the old one for `routerTokenGraceMs` unless revoked).
 */
import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod } from 'node:fs/promises';
import { LabError } from '../errors.ts';
import { fileMode, readTextFile, writePrivateFile } from '../home/files.ts';
import { withLock } from '../home/lock.ts';
import type { LabPaths } from '../home/paths.ts';
import type { Clock } from '../ports.ts';

/** A token as written: `clab_` + 43 base64url characters. */
const tokenPattern = /^clab_[A-Za-z0-9_-]{32,}$/;

/**
 * True for a bearer with a router token's shape (`clab_…`): one the router may not hold, but never
 * an OpenAI credential, so never one to pass through to the upstream.
 */
export function looksLikeRouterToken(presented: string | undefined): boolean {
  return presented !== undefined && tokenPattern.test(presented);
}

/** How often at most a router reads its token file again for a token it does not hold. */
export const rereadIntervalMs = 1000;

/** Makes a fresh router token. */
export function generateRouterToken(): string {
  return `clab_${randomBytes(32).toString('base64url')}`;
}

/** Reads the stored router token, or undefined when none exists yet. */
export async function readRouterToken(paths: LabPaths): Promise<string | undefined> {
  const text = await readTextFile(paths.routerToken);
  if (text === undefined) return undefined;
  const token = text.trim();
  if (!tokenPattern.test(token)) {
    throw new LabError(
      'corrupt_file',
      `${paths.routerToken} does not hold a router token. It was left untouched: move it away and run codex-lab token to make a new one.`,
    );
  }
  // A token file others can read (copied, or restored from a backup) is made private again:
  // tightening the mode of our own secret loses nothing. (A file we do not own stays as it is.)
  await chmod(paths.routerToken, fileMode).catch(() => undefined);
  return token;
}

/**
 * Returns the router token, creating it (under a lock, so two processes starting together agree)
 * when missing.
 */
export async function loadOrCreateRouterToken(paths: LabPaths): Promise<string> {
  const existing = await readRouterToken(paths);
  if (existing) return existing;
  return withLock(paths.locksDir, 'router-token', async () => {
    const raced = await readRouterToken(paths);
    if (raced) return raced;
    const token = generateRouterToken();
    await writePrivateFile(paths.routerToken, `${token}\n`);
    return token;
  });
}

/**
 * Writes a new router token in place of the stored one (atomic, 0600, under the same lock as its
 * creation) and returns it. A file that does not hold a token is reported by name and left as
 * it is; a missing one is simply created.
 */
export async function rotateRouterTokenFile(paths: LabPaths): Promise<string> {
  return withLock(paths.locksDir, 'router-token', async () => {
    // Read first: a corrupt file throws here, before anything is written over it.
    await readRouterToken(paths);
    const token = generateRouterToken();
    await writePrivateFile(paths.routerToken, `${token}\n`);
    return token;
  });
}

/**
 * How long a rotated-out token stays accepted: Codex runs its token command again every
 * `refresh_interval_ms` (10 s in the block `codex-config` writes, 5 minutes in Codex's default, so
 * in a block written by hand), and twice the longer lets every running session pick up the new
 * token before the old one is refused.
 */
export const routerTokenGraceMs = 10 * 60_000;

/**
 * How a request's wait for a read of the token file ended: the file was read, the tokens accepted
 * changed before the read was due (no read), or the router closed.
 */
type RereadOutcome = 'read' | 'changed' | 'closed';

/** What `RouterTokens.rotate` did: when the old token stops being accepted (null: already). */
export interface RouterTokenRotation {
  graceUntil: number | null;
}

/**
 * The tokens a running router accepts: the stored one, and after a rotation the previous one
 * until its grace period ends. The router's request check, its control API's event streams and
 * its identity proof all ask this one object.
 */
export class RouterTokens {
  readonly #paths: LabPaths;
  readonly #clock: Clock;
  readonly #graceMs: number;
  readonly #onAdopt: ((token: string) => void) | undefined;
  readonly #onChange: ((graceUntil: number | null) => void) | undefined;
  #current: { token: string; matches: (presented: string | undefined) => boolean } | null = null;
  #previous: { matches: (presented: string | undefined) => boolean; until: number } | null = null;
  /**
   * `acceptsStored`'s reads of the file: the next one (not begun, so requests arriving now may
   * share it), the one in flight (begun, so a request arriving now may not trust it: it may have
   * read the file before the file held that request's token), and when the last one began.
   */
  #nextReread: Promise<RereadOutcome> | null = null;
  #rereadInFlight: Promise<unknown> | null = null;
  #rereadAt = Number.NEGATIVE_INFINITY;
  /** Bumped at every change of the tokens accepted: a request waiting on a read looks again. */
  #changes = 0;
  #closed = false;
  /**
   * Rotations and re-reads, one at a time: a re-read that overlapped a rotation would compare the
   * file it read before the rotation with the token after it and bring the old one back, and two
   * rotations overlapping would each keep the token they saw first.
   */
  #queue: Promise<unknown> = Promise.resolve();
  /** Ends the wait for the next re-read early (the tokens accepted changed, or the router closes). */
  #wake: ((why: 'changed' | 'closed') => void) | null = null;

  constructor(options: {
    paths: LabPaths;
    clock: Clock;
    graceMs?: number;
    /** Hears every token adopted (loaded or rotated in): the host's log scrubs them all. */
    onAdopt?: (token: string) => void;
    /**
     * Hears every change of the tokens accepted after the first load (a rotation, a file adopted)
     * with when the old token's grace ends (null: refused already): the host tells its clients,
     * then and at that moment, so streams the old token opened close when it stops being accepted.
     */
    onChange?: (graceUntil: number | null) => void;
  }) {
    this.#paths = options.paths;
    this.#clock = options.clock;
    this.#graceMs = options.graceMs ?? routerTokenGraceMs;
    this.#onAdopt = options.onAdopt;
    this.#onChange = options.onChange;
  }

  /** Reads (or creates) the stored token once; later calls return the one adopted. */
  async load(): Promise<string> {
    if (this.#current) return this.#current.token;
    const token = await loadOrCreateRouterToken(this.#paths);
    // Two loads racing: the first one adopted wins (a rotation in between is kept).
    if (!this.#current) {
      this.#current = { token, matches: tokenMatcher(token) };
      this.#onAdopt?.(token);
    }
    return this.#current.token;
  }

  /** The token clients are told to use (the identity proof signs with it). Load first. */
  current(): string {
    if (!this.#current) throw new Error('RouterTokens.current() before load()');
    return this.#current.token;
  }

  /**
   * `accepts`, after adopting the stored token when `presented` has a router token's shape but is
   * not one this router holds: the file may have changed under it (a rotation by a process that
   * found no router answering while this one was starting, a restore from a backup), and the file
   * is the one truth every client reads. The token held until then gets a rotation's grace. At
   * most one read per `rereadIntervalMs`, shared by the requests that wait on it (a request in
   * the interval waits for the next read), so wrong tokens cannot make the router read its file
   * on every request. A request is refused only on a read that began after it arrived: once the
   * file holds a token, every request carrying it is served.
   */
  async acceptsStored(presented: string | undefined): Promise<boolean> {
    if (this.accepts(presented)) return true;
    if (this.#current === null || !looksLikeRouterToken(presented)) return false;
    for (;;) {
      const outcome = await this.#rereadAfterNow();
      // A closing router refuses what waited, so nothing it let through runs after it closed.
      if (outcome === 'closed' || this.#closed) return false;
      if (this.accepts(presented)) return true;
      // Woken by a change (an adoption, a rotation) that did not bring this token: the file
      // may still hold it, and only a read begun after this request arrived can say it does not.
      if (outcome === 'read') return false;
    }
  }

  /**
   * A read of the file that begins after this call, shared with every request that asks before
   * it begins. It waits for the read in flight to end and for `rereadIntervalMs` after the last
   * one began; it ends without reading when the accepted tokens change meanwhile ('changed':
   * waiting requests look again) or the router closes.
   */
  #rereadAfterNow(): Promise<RereadOutcome> {
    if (this.#closed) return Promise.resolve('closed');
    if (this.#nextReread) return this.#nextReread;
    const changes = this.#changes;
    const next: Promise<RereadOutcome> = (this.#rereadInFlight ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => {
        if (this.#closed) return 'closed' as const;
        if (this.#changes !== changes) return 'changed' as const;
        const wait = this.#rereadAt + rereadIntervalMs - this.#clock.now();
        return wait > 0 ? this.#slot(wait) : ('due' as const);
      })
      .then(async (why) => {
        // Begun or ended: a request arriving from here on waits for another read.
        this.#nextReread = null;
        if (why !== 'due') return why;
        this.#rereadAt = this.#clock.now();
        const read = this.adoptStored();
        this.#rereadInFlight = read;
        try {
          await read;
        } finally {
          if (this.#rereadInFlight === read) this.#rereadInFlight = null;
        }
        return 'read' as const;
      });
    this.#nextReread = next;
    return next;
  }

  /** Waits `ms` on the clock ('due'), or less when woken by a change or a close. */
  #slot(ms: number): Promise<'due' | 'changed' | 'closed'> {
    return new Promise((resolve) => {
      const cancel = this.#clock.setTimeout(() => {
        this.#wake = null;
        resolve('due');
      }, ms);
      this.#wake = (why) => {
        cancel();
        this.#wake = null;
        resolve(why);
      };
    });
  }

  /**
   * The router is closing: requests waiting for the next read of the file are refused now rather
   * than held on a timer nothing else ends.
   */
  close(): void {
    this.#closed = true;
    this.#wake?.('closed');
  }

  /**
   * Adopts the stored token when it is not the one held (the service calls this when its watcher
   * sees the file change; an unreadable or missing file changes nothing). The token held until
   * then stays accepted for the grace period. True when a token was adopted.
   */
  adoptStored(): Promise<boolean> {
    return this.#serial(async () => {
      const stored = await readRouterToken(this.#paths).catch(() => undefined);
      const before = this.#current;
      if (stored === undefined || before === null || before.matches(stored)) return false;
      this.#current = { token: stored, matches: tokenMatcher(stored) };
      this.#onAdopt?.(stored);
      const until = this.#clock.now() + this.#graceMs;
      this.#previous = { matches: before.matches, until };
      this.#changed(until);
      return true;
    });
  }

  /** Runs `work` after every rotation and re-read queued before it. */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** True when `presented` is the current token, or the previous one within its grace period. */
  accepts(presented: string | undefined): boolean {
    if (this.#current?.matches(presented) === true) return true;
    const previous = this.#previous;
    if (previous === null) return false;
    if (this.#clock.now() >= previous.until) {
      this.#previous = null;
      return false;
    }
    return previous.matches(presented);
  }

  /**
   * Writes a new token to the file and adopts it at once. The token in use until now stays
   * accepted for the grace period, or is refused from now on with `revokeOld`; a token rotated
   * out earlier is refused either way (one old token at a time).
   */
  async rotate(options: { revokeOld: boolean }): Promise<RouterTokenRotation> {
    await this.load();
    return this.#serial(() => this.#rotate(options));
  }

  async #rotate(options: { revokeOld: boolean }): Promise<RouterTokenRotation> {
    // Read in turn: the token a rotation queued before this one adopted is the one replaced.
    const before = this.#current;
    const token = await rotateRouterTokenFile(this.#paths);
    this.#current = { token, matches: tokenMatcher(token) };
    this.#onAdopt?.(token);
    if (options.revokeOld || before === null) {
      this.#previous = null;
      this.#changed(null);
      return { graceUntil: null };
    }
    const until = this.#clock.now() + this.#graceMs;
    this.#previous = { matches: before.matches, until };
    this.#changed(until);
    return { graceUntil: until };
  }

  /** After the accepted tokens changed: waiting requests look again, the host is told. */
  #changed(graceUntil: number | null): void {
    this.#changes += 1;
    this.#wake?.('changed');
    this.#onChange?.(graceUntil);
  }
}

/**
 * Compares a presented token with the expected one in constant time. Both sides are hashed first
 * so neither the length nor any prefix leaks through timing.
 */
export function routerTokenMatches(expected: string, presented: string | undefined): boolean {
  return tokenMatcher(expected)(presented);
}

/**
 * `routerTokenMatches` with the expected side hashed once: the router checks every request, so
 * it pays for one hash per request instead of two.
 */
export function tokenMatcher(expected: string): (presented: string | undefined) => boolean {
  const left = createHash('sha256').update(expected).digest();
  return (presented) => {
    if (presented === undefined) return false;
    // The one-shot digest: no Hash stream object per request.
    return timingSafeEqual(left, hash('sha256', presented, 'buffer'));
  };
}

/** Pulls the token out of an `Authorization: Bearer …` header value. */
export function bearerFrom(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
