/**
 * The fake ChatGPT's account model, shared by its issuer side (OAuth) and its backend side
 * (`/codex/responses`, `/wham/usage`). Tests script each account.
 */

/** One quota window of a fake account (times in Unix seconds, like the upstream). */
export interface FakeWindow {
  usedPercent: number;
  windowMinutes: number;
  /** Unix seconds of the reset. */
  resetAt: number;
  /**
   * True while the window has not started: every observation reports a reset one full window
   * from "now", so `resetAt` keeps moving forward. The first completed turn starts it.
   */
  unstarted: boolean;
}

/**
 * One banked rate-limit reset ("reset credit") as `GET wham/rate-limit-reset-credits` lists it
 * (times in Unix seconds here; the endpoint writes ISO-8601 strings).
 */
export interface FakeResetCredit {
  id: string;
  /** e.g. `codex_rate_limits`. */
  resetType: string;
  /** `available`, `redeemed`, … */
  status: string;
  grantedAt: number;
  expiresAt: number | null;
  title: string | null;
}

/** A scripted upstream failure for the next requests of an account. */
export type FakeFailure =
  | {
      kind: 'usage_limit';
      resetsInSeconds: number;
      /**
       * A per-model limit family (e.g. `codex_spark`): the 429 names it in `x-codex-active-limit`
       * and carries its `x-<family>-*` windows (full), while the account's main windows stay as
       * they are. Default: the main (`codex`) limit.
       */
      limitId?: string;
    }
  | { kind: 'unauthorized' }
  | { kind: 'server_error'; status?: number }
  | { kind: 'bad_request'; message?: string }
  | { kind: 'reset_mid_stream' };

/** One scripted ChatGPT account. */
export interface FakeAccount {
  email: string;
  accountId: string;
  userId: string;
  plan: string;
  /** The 5-hour window, or null when the plan has none (a missing primary window is normal). */
  primary: FakeWindow | null;
  secondary: FakeWindow | null;
  /** Queue of failures served before normal answers; `sticky` ones repeat until cleared. */
  failures: FakeFailure[];
  /**
   * A failure every request of the account meets until cleared, over HTTP and WebSocket alike: a
   * sticky `reset_mid_stream` cuts each of its turns after the first events (an account whose
   * streams keep dropping mid-turn), while the other accounts answer normally.
   */
  stickyFailure: FakeFailure | null;
  /**
   * When 'unauthorized', `wham/usage` answers 401 even to a valid token (an account that lost
   * access): lets tests prove that a client refreshes once and then stops. When 'unavailable',
   * it answers 503 (an upstream having a moment).
   */
  usageFailure?: 'unauthorized' | 'unavailable';
  /**
   * While set, `wham/usage` answers only once it settles (a slow upstream): lets a test hold a
   * process inside an operation that reads the quota.
   */
  usageHold?: Promise<void>;
  /**
   * While set, a turn over HTTP (`codex/responses`) is answered only once it settles (a backend
   * that holds the turn): lets a test hold a priming turn or a routed turn in flight.
   */
  turnHold?: Promise<void>;
  /** Text the fake model answers with. */
  reply: string;
  /**
   * A tool loop, as a model that calls a tool before it answers: a turn whose input ends with the
   * user's message is answered with a `function_call` of `name` with `arguments` (JSON text); the
   * follow-up that carries its `function_call_output` is answered with `reply` and, when the
   * output contains `expect`, " (the tool said so)" — so a test sees the tool ran and its output
   * reached the upstream. Default: none (every turn answers `reply`).
   */
  toolCall?: { name: string; arguments: string; expect: string };
  /** Percent added to each window per completed turn. */
  usagePerTurn: number;
  /**
   * Whether answers carry a reasoning item (with account-bound `encrypted_content` when the
   * request includes `reasoning.encrypted_content`), as reasoning models do. Default true.
   */
  reasoning: boolean;
  /**
   * How this account rejects ciphertext minted by another account: `code` answers
   * `code: "invalid_encrypted_content"`, `null_code` the other real shape (`code: null`, message only).
   */
  encryptedContentRejection: 'code' | 'null_code';
  /** Credits the account reports (usage endpoint and `x-codex-credits-*` headers). */
  credits: { hasCredits: boolean; unlimited: boolean; balance: string | null };
  /** Additional limit families the usage endpoint reports (`additional_rate_limits`). */
  additionalLimits: { limitName: string; meteredFeature: string; primary: FakeWindow }[];
  /**
   * The banked resets `wham/rate-limit-reset-credits` lists for this account; 'not_found' when
   * that endpoint answers 404 (an account the feature does not reach), 'unauthorized' when it
   * answers 401 even to a valid token, 'server_error' for a 500. Default: none.
   */
  resetCredits: FakeResetCredit[] | 'not_found' | 'unauthorized' | 'server_error';
  /** Input and cached tokens each turn's `response.completed` usage reports. */
  usageTokens: { input: number; cached: number; reasoning: number };
  /**
   * The account's workspace routing, as `wham/accounts/check` lists it: a backend origin of its
   * own and a data-residency override. Default: neither (`NO_CONSTRAINT`, a personal plan).
   */
  workspace?: { origin?: string; routingOverride?: 'us' | 'us_cr' };
}

/** Options for a new fake account; everything has a sensible default. */
export type FakeAccountInit = Partial<FakeAccount> & { email: string };

/** Builds a fake account with defaults: plus plan, both windows started and lightly used. */
export function createFakeAccount(init: FakeAccountInit, nowSeconds: number): FakeAccount {
  const slug = init.email.replace(/[^a-z0-9]/gi, '').slice(0, 16);
  return {
    accountId: `acct-${slug}`,
    userId: `user-${slug}`,
    plan: 'plus',
    primary: {
      usedPercent: 10,
      windowMinutes: 300,
      resetAt: nowSeconds + 3 * 3600,
      unstarted: false,
    },
    secondary: {
      usedPercent: 20,
      windowMinutes: 10080,
      resetAt: nowSeconds + 4 * 86400,
      unstarted: false,
    },
    failures: [],
    stickyFailure: null,
    reply: `Hello from ${init.email}`,
    usagePerTurn: 1,
    reasoning: true,
    encryptedContentRejection: 'code',
    credits: { hasCredits: false, unlimited: false, balance: '0' },
    usageTokens: { input: 12, cached: 0, reasoning: 0 },
    additionalLimits: [],
    resetCredits: [],
    ...init,
  };
}
