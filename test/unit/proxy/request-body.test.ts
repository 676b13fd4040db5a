/**
 * A request body is read whole as the client sent it, whether it arrives in one chunk or many,
 * with or without a declared length, over a real loopback connection.
 */
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readRequestBody } from '../../../core/proxy/body.ts';

const servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** Sends `parts` as one request and resolves with what `readRequestBody` read of it. */
async function roundTrip(parts: Buffer[], declare: boolean): Promise<Buffer> {
  const read = new Promise<Buffer>((resolve, reject) => {
    const server = createServer((incoming: IncomingMessage, response) => {
      readRequestBody(incoming).then(resolve, reject);
      response.end();
    });
    servers.push(server);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      const total = parts.reduce((sum, part) => sum + part.length, 0);
      const outgoing = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        headers: declare ? { 'content-length': String(total) } : {},
      });
      outgoing.on('response', (response) => response.resume());
      // Parts larger than a socket read (64 KB) reach the server as several chunks.
      for (const part of parts) outgoing.write(part);
      outgoing.end();
    });
  });
  return read;
}

describe('readRequestBody', () => {
  const parts = Array.from({ length: 6 }, (_, index) =>
    Buffer.alloc(70_000 + index, String.fromCharCode(97 + index)),
  );
  const whole = Buffer.concat(parts);

  it('reads a body sent in many chunks with its declared length', async () => {
    expect((await roundTrip(parts, true)).equals(whole)).toBe(true);
  });

  it('reads a body sent in many chunks without a declared length', async () => {
    expect((await roundTrip(parts, false)).equals(whole)).toBe(true);
  });

  it('reads a body sent in one small chunk', async () => {
    const small = Buffer.from('{"model":"gpt-6.2-sol","input":[]}');
    expect((await roundTrip([small], true)).equals(small)).toBe(true);
  });
});
