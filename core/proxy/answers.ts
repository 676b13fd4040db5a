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
