/**
 * A small JSON client for our own router on 127.0.0.1 (the CLI and an attached desktop app talk
 * to it), on `node:http` rather than `fetch`, so a short command does not load undici. A network
 * failure rejects with the socket error or `no answer in time`, which no user sees as it is: each
 * caller words it as `router_unavailable` (discovery, `RemoteLab`).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';

/** One answer: status and parsed JSON (undefined when the body was not JSON). */
export interface LoopbackAnswer {
  status: number;
  json: unknown;
}

/**
 * Sends one request and reads the JSON answer; rejects with the socket error, a timeout or the
 * abort.
 */
export function loopbackJson(
  url: string,
  options: {
    method?: 'GET' | 'POST';
    token?: string;
    body?: unknown;
    timeoutMs?: number;
    /** Ends the wait at once (the caller learnt the router is not answering). */
    signal?: AbortSignal;
  } = {},
): Promise<LoopbackAnswer> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const request = httpRequest(
      url,
      {
        method: options.method ?? 'GET',
        headers: {
          accept: 'application/json',
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
        },
        timeout: options.timeoutMs ?? 10_000,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (response: IncomingMessage) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode ?? 0, json });
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error('no answer in time')));
    request.on('error', reject);
    request.end(body);
  });
}
