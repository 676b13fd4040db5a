/**
 * The router's JSON answers, in a module of their own: the identity check and the control API
 * answer with them, and a client that only asks a router who it is (`token --ensure-router`,
 * which Codex runs at start) must not load the proxy server and its HTTP and WebSocket clients.
 */
import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '../errors.ts';

/** Sends a JSON body with the given status. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  });
  response.end(text);
}

/** Sends the router's error shape: `{ error: { type, code, message } }` (what Codex reads). */
export function sendError(
  response: ServerResponse,
  status: number,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(response, status, { error: { type: code, code, message } }, headers);
}

/**
 * The control API's HTTP status of each failure code, one table for every refusal it answers:
 * the request's own (token, host, route, method, body, shape) and an operation's that ran and
 * refused. A code not listed is a failure of the router or of what it depends on.
 */
const failureStatuses: Partial<Record<ErrorCode, number>> = {
  bad_request: 400,
  invalid_argument: 400,
  invalid_name: 400,
  invalid_config: 400,
  auth_state_mismatch: 400,
  auth_missing_code: 400,
  unauthorized: 401,
  auth_denied: 403,
  workspace_restricted: 403,
  not_found: 404,
  profile_not_found: 404,
  unlisted_profile: 404,
  method_not_allowed: 405,
  name_taken: 409,
  priming_disabled: 409,
  priming_claimed: 409,
  router_running: 409,
  port_in_use: 409,
  auth_cancelled: 409,
  not_signed_in: 409,
  payload_too_large: 413,
  misdirected_request: 421,
  usage_limit_reached: 429,
  upstream_error: 502,
  upstream_unreachable: 502,
  token_exchange_failed: 502,
  device_code_unsupported: 502,
  refresh_token_expired: 409,
  refresh_token_reused: 409,
  refresh_token_invalidated: 409,
  refresh_failed: 502,
  refresh_transient: 502,
  account_mismatch: 409,
  priming_failed: 502,
  internal_error: 500,
  router_unavailable: 503,
  cancelled: 503,
  no_eligible_profile: 503,
  lock_timeout: 503,
  keyring_unavailable: 503,
  auth_timeout: 504,
};

/** The control API's status for a failure `code` (500 for one the table does not list). */
export function failureStatus(code: ErrorCode): number {
  return failureStatuses[code] ?? 500;
}

/**
 * Sends the control API's one failure shape, `{ ok: false, code, message }` (a failed
 * `ContractResult`), with the status `failureStatus` gives its code.
 */
export function sendFailure(
  response: ServerResponse,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(response, failureStatus(code), { ok: false, code, message }, headers);
}
