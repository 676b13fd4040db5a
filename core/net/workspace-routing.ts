/**
 * Workspace routing, as native Codex signed in with ChatGPT does it (docs/routing.md, "Workspace
 * routing"): before an account's first turn, `GET {base}/wham/accounts/check` lists the
 * workspaces the token's user belongs to; the account's entry names the backend origin its turns
 * go to (`NO_CONSTRAINT`: the configured one) and its routing override (`us` or `us_cr`, sent as
 * `X-OpenAI-Account-Routing-Override`; `NO_CONSTRAINT`: none). Written as "build request →
 * process answer", with the cache and its timing in `WorkspaceRoutes` (clock injected).
 */
import { isLabError } from '../errors.ts';
import { describeFetchFailure } from './fetch-failure.ts';
import type { Clock, Logger } from '../ports.ts';
import { outboundFetch } from './outbound-fetch.ts';

/** A data-residency routing override the upstream accepts. */
export type RoutingOverride = 'us' | 'us_cr';

/** Where an account's turns go, and with which override. */
export interface WorkspaceRouting {
  /** The backend origin (`https://host[:port]`), or null for the configured one. */
  origin: string | null;
  /** Sent as `X-OpenAI-Account-Routing-Override`, or null for none. */
  override: RoutingOverride | null;
}

/** An account with no constraint: the configured origin, no override (personal plans). */
export const unconstrained: WorkspaceRouting = Object.freeze({ origin: null, override: null });

/** The header a constrained workspace's turns carry. */
export const routingOverrideHeader = 'x-openai-account-routing-override';

/** The discovery request for one account: its path below the backend base, and its headers. */
export function buildAccountsCheckRequest(credentials: {
  accessToken: string;
  accountId: string | null;
}): { path: string; headers: Record<string, string> } {
  const headers: Record<string, string> = {
    authorization: `Bearer ${credentials.accessToken}`,
    accept: 'application/json',
  };
  if (credentials.accountId) headers['chatgpt-account-id'] = credentials.accountId;
  return { path: '/wham/accounts/check', headers };
}

/** The outcome of reading a discovery answer: a routing, or why there is none. */
export type WorkspaceRoutingResult =
  | { ok: true; routing: WorkspaceRouting }
  | { ok: false; code: 'workspace_routing_unavailable'; message: string };

function unavailable(message: string): WorkspaceRoutingResult {
  return { ok: false, code: 'workspace_routing_unavailable', message };
}

/**
 * Reads a `wham/accounts/check` answer for `accountId`. `scheme` is the configured backend's
 * (`https:` for chatgpt.com): a discovered origin must use it, name no credentials and carry no
 * path, query or fragment, as native Codex requires.
 */
export function processAccountsCheckResponse(
  status: number,
  body: unknown,
  accountId: string,
  scheme: string,
): WorkspaceRoutingResult {
  if (status < 200 || status >= 300) return unavailable(`the workspace check answered ${status}`);
  const accounts = (body as { accounts?: unknown } | null)?.accounts;
  if (!Array.isArray(accounts)) {
    // The older map form carries no routing: its accounts have none to apply.
    return typeof accounts === 'object' && accounts !== null
      ? { ok: true, routing: unconstrained }
      : unavailable('the workspace check listed no accounts');
  }
  const entries = accounts.filter(
    (entry) => (entry as { id?: unknown } | null)?.id === accountId,
  ) as Array<{ workspace_backend_origin?: unknown; account_routing_override?: unknown }>;
  if (entries.length !== 1) {
    return unavailable(
      entries.length === 0
        ? 'the workspace check does not list this account'
        : 'the workspace check lists this account twice',
    );
  }
  const entry = entries[0]!;
  const override = entry.account_routing_override;
  if (override !== undefined && override !== null && override !== 'NO_CONSTRAINT') {
    if (override !== 'us' && override !== 'us_cr') {
      return unavailable('the workspace check named an unknown routing override');
    }
  }
  const origin = entry.workspace_backend_origin;
  let resolved: string | null = null;
  if (origin !== undefined && origin !== null && origin !== 'NO_CONSTRAINT') {
    if (typeof origin !== 'string') return unavailable('the workspace origin is not a URL');
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return unavailable('the workspace origin is not a URL');
    }
    if (
      origin.trim() !== origin ||
      url.protocol !== scheme ||
      url.username !== '' ||
      url.password !== '' ||
      url.pathname !== '/' ||
      url.search !== '' ||
      url.hash !== ''
    ) {
      return unavailable('the workspace origin is not a plain origin on the backend’s scheme');
    }
    resolved = url.origin;
  }
  return {
    ok: true,
    routing: {
      origin: resolved,
      override: override === 'us' || override === 'us_cr' ? override : null,
    },
  };
}

/** Options for `WorkspaceRoutes`. */
export interface WorkspaceRoutesOptions {
  clock: Pick<Clock, 'now' | 'setTimeout'>;
  /** Runs one discovery for `profile` (never throws: a failure is a value). */
  discover: (profile: string) => Promise<WorkspaceRoutingResult>;
  /** A routing is used this long before it is read again, in the background (default 1 hour). */
  ttlMs?: number;
  /** After a failed discovery, the next one waits this long (default 1 minute). */
  retryMs?: number;
  /** A first discovery that takes longer is not waited for (default 5 seconds). */
  waitMs?: number;
  /** Told once per failure streak, with the reason (for the log; no token in it). */
  onFailure?: (profile: string, message: string) => void;
}

interface RouteEntry {
  /** The account the routing was read for: another account (a re-login) starts over. */
  accountId: string | null;
  routing: WorkspaceRouting;
  /** When to read it again. */
  staleAt: number;
  pending: Promise<void> | null;
  failing: boolean;
  /** Whether a read has finished (its answer or its failure is known). */
  settled: boolean;
}

/**
 * Each profile's workspace routing, read once and kept: a profile's first turn waits for the
 * read (at most `waitMs`), later ones use what is known, with no promise, and refresh it in the
 * background when stale. A failed or slow first read leaves the profile unconstrained (what the
 * router did before it knew of workspace routing); a failed later one keeps what the last good
 * one gave. Either is tried again after `retryMs`.
 */
export class WorkspaceRoutes {
  readonly #entries = new Map<string, RouteEntry>();
  readonly #options: WorkspaceRoutesOptions;

  constructor(options: WorkspaceRoutesOptions) {
    this.#options = options;
  }

  /**
   * The routing for `profile`, signed in as `accountId`: at once when known, else a promise of
   * the first read (bounded by `waitMs`). Never throws or rejects.
   */
  routingFor(
    profile: string,
    accountId: string | null,
  ): WorkspaceRouting | Promise<WorkspaceRouting> {
    const now = this.#options.clock.now();
    let entry = this.#entries.get(profile);
    if (entry === undefined || entry.accountId !== accountId) {
      entry = {
        accountId,
        routing: unconstrained,
        staleAt: now,
        pending: null,
        failing: false,
        settled: false,
      };
      this.#entries.set(profile, entry);
      void this.#read(profile, entry);
    }
    // Every turn that comes before the first read has finished waits for it, not only the first.
    const pending = entry.pending;
    if (!entry.settled && pending !== null) {
      const waiting = entry;
      return this.#atMost(pending, this.#options.waitMs ?? 5000).then(() => waiting.routing);
    }
    if (now >= entry.staleAt && entry.pending === null) void this.#read(profile, entry);
    return entry.routing;
  }

  #read(profile: string, entry: RouteEntry): Promise<void> {
    const options = this.#options;
    entry.pending = options.discover(profile).then((result) => {
      entry.pending = null;
      entry.settled = true;
      const now = options.clock.now();
      if (result.ok) {
        entry.routing = result.routing;
        entry.failing = false;
        entry.staleAt = now + (options.ttlMs ?? 60 * 60_000);
        return;
      }
      entry.staleAt = now + (options.retryMs ?? 60_000);
      if (!entry.failing) options.onFailure?.(profile, result.message);
      entry.failing = true;
    });
    return entry.pending;
  }

  #atMost(work: Promise<void>, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.#options.clock.setTimeout(resolve, ms);
      void work.then(() => {
        cancel();
        resolve();
      });
    });
  }
}

/** `fetch` as the discovery uses it (the global one, or a test's). */
export type WorkspaceFetch = (input: string, init: RequestInit) => Promise<Response>;

/**
 * One discovery: `GET {baseUrl}/wham/accounts/check` with the account's credentials and
 * `identity` (Codex's client headers), read for its entry. Never throws.
 */
export async function discoverWorkspaceRouting(
  fetch: WorkspaceFetch,
  baseUrl: string,
  credentials: { accessToken: string; accountId: string | null },
  identity: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<WorkspaceRoutingResult> {
  if (!credentials.accountId) return { ok: true, routing: unconstrained };
  const base = new URL(baseUrl.replace(/\/+$/, ''));
  const request = buildAccountsCheckRequest(credentials);
  let status: number;
  let text: string;
  // Only the exchange is guarded: its failures are the network's (fetch rejects each as a bare
  // TypeError, the reason in its cause), while one in reading the answer would be a bug.
  try {
    const response = await fetch(`${base.href}${request.path}`, {
      method: 'GET',
      headers: { ...identity, ...request.headers },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    return unavailable(`could not reach ${base.host} (${describeFetchFailure(error, timeoutMs)})`);
  }
  let answer: unknown = null;
  try {
    answer = JSON.parse(text);
  } catch {
    // Not JSON: read as an answer without accounts.
  }
  return processAccountsCheckResponse(status, answer, credentials.accountId, base.protocol);
}

/** Options for `createWorkspaceRoutes`. */
export interface WorkspaceReaderOptions {
  clock: Pick<Clock, 'now' | 'setTimeout'>;
  /** The configured backend base (`https://chatgpt.com/backend-api`). */
  baseUrl: string;
  /** A profile's current credentials (a `LabError` is a failed read, not a crash). */
  credentialsOf(profile: string): Promise<{ accessToken: string; accountId: string | null }>;
  /** Codex's client headers for the read (the caller's: identity lives above this floor). */
  identity: Record<string, string>;
  /** Default: the global fetch (through the environment's proxy, as every outbound read). */
  fetch?: WorkspaceFetch;
  logger: Pick<Logger, 'warn'>;
}

/** The one way a process reads its profiles' workspace routing: discovery, cache, a warning. */
export function createWorkspaceRoutes(options: WorkspaceReaderOptions): WorkspaceRoutes {
  return new WorkspaceRoutes({
    clock: options.clock,
    discover: async (profile) => {
      let credentials: { accessToken: string; accountId: string | null };
      try {
        credentials = await options.credentialsOf(profile);
      } catch (error) {
        if (!isLabError(error)) throw error;
        return unavailable(error.message);
      }
      return discoverWorkspaceRouting(
        options.fetch ?? outboundFetch,
        options.baseUrl,
        credentials,
        options.identity,
      );
    },
    onFailure: (profile, message) =>
      options.logger.warn(
        { profile, reason: message },
        'workspace routing unknown; the profile’s turns go to the configured backend',
      ),
  });
}
