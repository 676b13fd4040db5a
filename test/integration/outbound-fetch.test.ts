/**
 * `outboundFetch`, the one client of Codex Lab's own calls, against a real loopback server: it
 * sends only the headers it is given, and answers and fails as `fetch` does, so every caller's
 * reading of an answer or a failure holds.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeFetchFailure } from '../../core/net/fetch-failure.ts';
import { outboundFetch } from '../../core/net/outbound-fetch.ts';

let server: Server;
let url: string;
let seen: { method: string; rawHeaders: string[]; body: string }[];
let answer: (request: IncomingMessage, response: ServerResponse) => void;

beforeEach(async () => {
  seen = [];
  server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      seen.push({ method: request.method ?? '', rawHeaders: [...request.rawHeaders], body });
      answer(request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('outboundFetch', () => {
  it('sends only the headers it is given, and what HTTP/1.1 needs', async () => {
    answer = (_, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    const response = await outboundFetch(`${url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', originator: 'codex_cli_rs' },
      body: '{"a":1}',
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok');
    const names = seen[0]!.rawHeaders.filter((_, index) => index % 2 === 0);
    expect(names.sort()).toEqual(
      ['connection', 'content-length', 'content-type', 'host', 'originator'].sort(),
    );
    expect(seen[0]).toMatchObject({ method: 'POST', body: '{"a":1}' });
  });

  it('streams the body, keeps every answer header, and gives a 204 no body', async () => {
    answer = (request, response) => {
      if (request.url === '/empty') return void response.writeHead(204).end();
      response.writeHead(429, [
        ['content-type', 'text/event-stream'],
        ['x-codex-active-limit', 'codex'],
        ['set-cookie', 'a=1'],
        ['set-cookie', 'b=2'],
      ]);
      response.write('data: one\n\n');
      setTimeout(() => response.end('data: two\n\n'), 20);
    };
    const streamed = await outboundFetch(`${url}/stream`, { method: 'GET' });
    expect(streamed.status).toBe(429);
    expect(streamed.headers.get('x-codex-active-limit')).toBe('codex');
    expect(streamed.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await streamed.text()).toBe('data: one\n\ndata: two\n\n');
    const empty = await outboundFetch(`${url}/empty`, { method: 'GET' });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
  });

  it('reads a gzip answer decoded, as fetch does', async () => {
    answer = (_, response) => {
      const body = gzipSync('{"ok":true}');
      response.writeHead(200, { 'content-encoding': 'gzip', 'content-length': body.length });
      response.end(body);
    };
    const response = await outboundFetch(`${url}/usage`, { method: 'GET' });
    expect(await response.json()).toEqual({ ok: true });
    expect(response.headers.get('content-encoding')).toBeNull();
  });

  it('fails as fetch does: a refused connection names its code, a timeout says so', async () => {
    const closed = `${url.replace(/:\d+$/, '')}:1`;
    const refused = await outboundFetch(closed, { method: 'GET' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TypeError);
    expect(describeFetchFailure(refused)).toBe('ECONNREFUSED');
    answer = () => undefined; // never answers
    const late = await outboundFetch(`${url}/slow`, {
      method: 'GET',
      signal: AbortSignal.timeout(50),
    }).catch((error: unknown) => error);
    expect(describeFetchFailure(late, 2000)).toBe('no answer within 2 s');
  });
});
