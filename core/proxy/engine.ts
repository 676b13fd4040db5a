/**
 * What the proxy asks of the rest of the core, per request. The server owns the HTTP mechanics
 * (auth, bodies, streaming, the fallback loop); an engine owns the policy (which profile, with
 * which credentials, and what a failure means). `createLabEngine` in `lab-engine.ts` is the real
 * one; tests may pass their own.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ErrorCode, LabError } from '../errors.ts';
import type { RequestEnding, RequestTokensView, RouteReason } from '../view-types.ts';
import type { RouteContext } from '../router/route-context.ts';
import type { CiphertextOwners } from './ciphertext.ts';

/**
 * Which kind of upstream call a request is: a turn (`responses`, `compact`), one of the two reads
 * that describe an account's limits (`usage`, and `reset-credits`: the resets it can redeem), or
 * anything else.
 */
export type ProxyRequestKind = 'responses' | 'compact' | 'usage' | 'reset-credits' | 'passthrough';

/** Whether a request of `kind` is a turn, the only kind that spends quota (a response, a compaction). */
export function spendsQuota(kind: ProxyRequestKind | string): boolean {
  return kind === 'responses' || kind === 'compact';
}

/** One incoming request as the engine sees it (the body already decoded and parsed). */
export interface ProxyRequestInfo {
  kind: ProxyRequestKind;
  method: string;
  /** The path below `/backend-api`, with its query string (e.g. `/codex/responses`). */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or null (GET, non-JSON, or unparsable passthrough bodies). */
  body: Record<string, unknown> | null;
  /**
   * The route context the server already read from the headers (a turn whose body was not
   * parsed), so the engine does not read them twice; absent, the engine reads headers and body.
   */
  routeContext?: RouteContext;
}

/** The profile picked for one attempt. */
export interface ProfilePick {
  ok: true;
  profile: string;
  route: RouteReason;
  /** A pin that allows fallback may fall over; a strict pin returns the upstream error. */
  allowFallback: boolean;
}

/** No profile can serve the request: the HTTP answer to give instead. */
export interface NoPick {
  ok: false;
  status: number;
  code: ErrorCode;
  message: string;
  /** The JSON body to send; default `{ error: { type: code, code, message } }`. */
  body?: unknown;
  /**
   * Only the user can mend it (a sign-in, a pin to an existing profile): sent as a 400 with the
   * sentence as a plain-text body, which Codex shows at once and as written. Codex retries any
   * other refusal status — a 403 six times over ~7 s, a 503 thirty times over ~25 s — before it
   * shows anything, and prints a JSON body raw.
   */
  userMustAct?: boolean;
}

/** Routing state for one request across its attempts. */
export interface RoutingTicket {
  /** The request's session key (DESIGN.md section 4), or null when it has none. */
  readonly sessionId?: string | null;
  /** Picks a profile, skipping `excluded` (profile → why) from earlier attempts. */
  choose(
    excluded: ReadonlyMap<string, string>,
  ): ProfilePick | NoPick | Promise<ProfilePick | NoPick>;
  /** The response is going to the client from `pick`: record the session and the decision. */
  commit(pick: ProfilePick, excluded: ReadonlyMap<string, string>): void;
  /** The request is over (answered, refused or abandoned): the per-request log's entry. */
  finish?(outcome: RequestOutcome): void;
  /**
   * The name the profile this request was routed to as `profile` has now, after the renames made
   * since the request came in; null once it was removed or its name went to another account.
   * What an answer says of its account (quota, limits, failures) is booked under this name, never
   * under whichever account the old name means now. Without it, names are taken as they are.
   */
  nameNow?(profile: string): string | null;
}

/** How one request ended, as the server measured it. */
export interface RequestOutcome {
  /** The status the client got; 499 when it went away before an answer. */
  status: number;
  /**
   * How the answer's stream ended when not as it should (cut, an error event, the client gone),
   * whatever `status` said; absent or null when it ended well.
   */
  ending?: RequestEnding | null;
  /** Time to the first byte of the answer, or null when none was sent. */
  ttfbMs: number | null;
  durationMs: number;
  /** Token counts from the answer's `response.completed`, or null. */
  usage: RequestTokensView | null;
  /**
   * Digests (`ciphertextDigest`) of the account-bound blobs the answer minted, for the journal, so a
   * restarted router still knows they are the serving profile's. Absent when none.
   */
  minted?: readonly string[];
}

/** Upstream credentials for one profile. */
export interface UpstreamCredentials {
  accessToken: string;
  accountId: string | null;
  /**
   * The signed-in user (the token's `chatgpt_user_id`): tells apart two seats of one workspace,
   * which share `accountId`. Null or absent when the tokens name none.
   */
  userId?: string | null;
}

/** A 429 that means the account's quota is spent. */
export interface UsageLimit {
  /** Unix ms when the limit resets, or null when the upstream did not say. */
  resetsAt: number | null;
  message: string;
  /**
   * The limit family the 429 names in `x-codex-active-limit` (e.g. a Spark model's own limit);
   * null or `codex` for the account's main limit.
   */
  limitId?: string | null;
}

/** The policy side of the proxy. Every method is cheap on the hot path: no file reads. */
export interface ProxyEngine {
  /** Starts routing a request (extracts the session, repo and pins once). */
  prepare(info: ProxyRequestInfo): RoutingTicket;
  /** The profile's current upstream credentials. Throws a `LabError` when it cannot be used. */
  credentials(profile: string): Promise<UpstreamCredentials>;
  /** Called once after a 401: refreshes (or adopts a newer token) and returns the new one. */
  refreshAfterUnauthorized(
    profile: string,
    rejectedAccessToken: string,
  ): Promise<UpstreamCredentials>;
  /**
   * Waits for the profile's refresh in flight (one a request stopped waiting for: "slow"); true
   * when it landed and the profile can be picked again, false when none runs or it failed.
   */
  awaitRefresh?(profile: string): Promise<boolean>;
  /** Reads a 429 body: a usage limit (fall over) or null (pass the error through). */
  classify429(body: string, headers: IncomingHttpHeaders, now: number): UsageLimit | null;
  /** Every upstream answer's headers (quota) and status (health, circuit breaker). */
  observe(profile: string, status: number, headers: IncomingHttpHeaders): void;
  /**
   * The profile's quota is spent until `limit.resetsAt` — for every request, or only for the
   * models of `limit.limitId`'s family (`request` says which model hit it).
   */
  markLimited(profile: string, limit: UsageLimit, request?: ProxyRequestInfo): void;
  /**
   * The profile's credentials failed: a code that needs a new sign-in marks it `auth_error`;
   * anything else (timeout, issuer 5xx, lock) is transient and only skips it for a moment.
   */
  noteCredentialFailure(profile: string, error: LabError): void;
  /** A network error (status null) or 5xx from the profile, for the circuit breaker. */
  noteFailure(profile: string, status: number | null): void;
  /**
   * `wham/usage` answered from what the router knows (naming the profile's account, user and
   * email, as the upstream's answer does), or null to ask the upstream.
   */
  usageAnswer(profile: string): unknown;
  /** The ChatGPT account id the profile is signed in to, or null when the engine does not know it. */
  accountOf(profile: string): string | null;
  /**
   * Which profile minted each session's account-bound ciphertext; the router keeps its own when
   * the engine has none.
   */
  readonly ciphertext?: CiphertextOwners;
}
