/**
 * One error hierarchy for the whole core, with string codes (like `ky` and `oauth4webapi`).
 *
 * Expected failures cross every boundary (CLI, control API, IPC) as `Failure` values built from
 * these codes; only bugs throw something that is not a `LabError`.
 */
import type { FailureFix } from './view-types.ts';

/** Every expected failure the core reports, by stable string code. */
export const errorCodes = [
  // input: of a request or a setting (`inputErrorCodes` says which are what the user gave)
  'invalid_name',
  'name_taken',
  'invalid_argument',
  'invalid_config',
  'bad_request',
  'payload_too_large',
  // a request the router refuses before reading it: a known path asked with another method, or
  // a Host or Origin that is not loopback (a DNS-rebinding page)
  'method_not_allowed',
  'misdirected_request',
  // storage
  'profile_not_found',
  'corrupt_file',
  'io_error',
  'lock_timeout',
  'keyring_unavailable',
  'unlisted_profile',
  // sign-in
  'auth_state_mismatch',
  'auth_denied',
  'auth_missing_code',
  'auth_timeout',
  'auth_cancelled',
  'port_in_use',
  'token_exchange_failed',
  'device_code_unsupported',
  'workspace_restricted',
  // refresh
  'refresh_token_expired',
  'refresh_token_reused',
  'refresh_token_invalidated',
  'refresh_failed',
  'refresh_transient',
  'account_mismatch',
  'not_signed_in',
  // routing and upstream
  'unauthorized',
  'usage_limit_reached',
  'no_eligible_profile',
  'upstream_error',
  'upstream_unreachable',
  /** A bug in the router itself (the request failed on its side, not upstream). */
  'internal_error',
  'upgrade_required',
  'not_found',
  // priming
  'priming_disabled',
  'priming_claimed',
  'priming_failed',
  // tools
  'codex_not_found',
  // the router as a process (docs/design.md section 8)
  'router_running',
  'router_unavailable',
  // the running router has no built dashboard to open
  'dashboard_not_built',
  // no browser could be opened (no opener, or it failed): the caller printed the link instead
  'browser_unavailable',
  // the host stopped while an operation was still waiting for the network: nothing of it was kept
  'cancelled',
] as const;

/** A stable string code naming one kind of expected failure. */
export type ErrorCode = (typeof errorCodes)[number];

/**
 * The codes that say what the user gave is wrong, and nothing else: an argument or an option's
 * value that cannot be (`invalid_argument`), a name that cannot be a profile's or is another's
 * (`invalid_name`, `name_taken`), a name or id that names nothing (`profile_not_found`,
 * `not_found`). The command line exits 2 on them, as on a command line commander refuses; every
 * other failure (a setting, a file, the keychain, the network, the router) exits 1.
 */
export const inputErrorCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'invalid_argument',
  'invalid_name',
  'name_taken',
  'profile_not_found',
  'not_found',
]);

/**
 * An expected failure: carries a code and one clear sentence saying what is wrong and what to do;
 * when what to do is one action of the user's that each surface offers its own way (signing a
 * profile in again), it is in `fix` instead of the sentence.
 */
export class LabError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Extra facts for callers (never secrets). */
  readonly details: Readonly<Record<string, unknown>> | undefined;
  /** What cures it, for each surface to say (the CLI's command, the dashboard's button). */
  readonly fix: FailureFix | undefined;
  /**
   * The profile the sentence names by name, set by whoever words it: a list of several profiles'
   * failures puts a name only before a sentence that does not say it already.
   */
  readonly namedProfile: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: {
      cause?: unknown;
      details?: Record<string, unknown>;
      fix?: FailureFix;
      namedProfile?: string;
    },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LabError';
    this.code = code;
    this.details = options?.details;
    this.fix = options?.fix;
    this.namedProfile = options?.namedProfile;
  }
}

/**
 * A failure that signing `profile` in again cures: `problem` says what is wrong, and the fix
 * travels beside it (`codex-lab login NAME` on the command line, "Sign in again" in the dashboard).
 * `problem` names `profile` (`namedProfile`) unless `namesProfile` is false (it names a file).
 */
export function signInAgainError(
  code: ErrorCode,
  profile: string,
  problem: string,
  options?: { details?: Record<string, unknown>; namesProfile?: boolean },
): LabError {
  return new LabError(code, problem, {
    ...(options?.details ? { details: options.details } : {}),
    ...(options?.namesProfile === false ? {} : { namedProfile: profile }),
    fix: { action: 'sign_in', profiles: [profile] },
  });
}

/** Cross-realm check for a `LabError` (structured clones and other module copies lose `instanceof`). */
export function isLabError(value: unknown): value is LabError {
  return (
    value instanceof LabError ||
    (value instanceof Error &&
      value.name === 'LabError' &&
      typeof (value as LabError).code === 'string')
  );
}

/**
 * `error` (a file's `corrupt_file` or `io_error`) marked as the failure of a profile's stored
 * tokens (its auth file, or keychain entry): `details.tokens`, beside the file it names
 * (`details.path`). Only the readers of tokens mark it, so a corrupt quota or health file met on
 * the same path is never taken for the auth file's. Anything else is returned as it is.
 */
export function tokensFileError(error: unknown, path: string): unknown {
  if (!isLabError(error) || (error.code !== 'corrupt_file' && error.code !== 'io_error')) {
    return error;
  }
  if (error.details?.['tokens'] === true) return error;
  return new LabError(error.code, error.message, {
    cause: error.cause ?? error,
    details: { path, ...error.details, tokens: true },
    ...(error.fix ? { fix: error.fix } : {}),
    ...(error.namedProfile === undefined ? {} : { namedProfile: error.namedProfile }),
  });
}

/**
 * The file a storage failure (`corrupt_file`, `io_error`) is about, as it carries it
 * (`details.path`): what every surface names it by. Null for any other failure.
 */
export function failedFile(error: {
  code: string;
  details?: Readonly<Record<string, unknown>> | undefined;
}): string | null {
  if (error.code !== 'corrupt_file' && error.code !== 'io_error') return null;
  const path = error.details?.['path'];
  return typeof path === 'string' ? path : null;
}

/** An expected failure as a plain value, the shape every surface uses. */
export interface Failure {
  ok: false;
  code: ErrorCode;
  message: string;
  fix?: FailureFix;
}

/** A success as a plain value. */
export interface Success<T> {
  ok: true;
  value: T;
}

/** Either a value or an expected failure. */
export type Result<T> = Success<T> | Failure;

/** Wraps a value as a success. */
export function success<T>(value: T): Success<T> {
  return { ok: true, value };
}

/** Builds a failure value. */
export function failure(code: ErrorCode, message: string, fix?: FailureFix): Failure {
  return fix === undefined ? { ok: false, code, message } : { ok: false, code, message, fix };
}

/**
 * Runs `operation` and turns a `LabError` into a failure value; anything else is a bug and is
 * rethrown.
 */
export async function toResult<T>(operation: () => Promise<T>): Promise<Result<T>> {
  try {
    return success(await operation());
  } catch (error) {
    if (isLabError(error)) return failure(error.code, error.message, error.fix);
    throw error;
  }
}
