/**
 * A request body is read whole as the client sent it, whether it arrives in one chunk or many,
 * with or without a declared length, over a real loopback connection; a body read as chunks is
 * sent as those chunks and joined only when read whole.
 */
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readRequestBody, readRequestChunks, type RequestBody } from '../../../core/proxy/body.ts';

const servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/**
 * Sends `parts` as one request (with its length declared when `declare`) over loopback and
 * resolves with what `read` made of it on the server side.
 */
async function sendAndRead<T>(
  parts: Buffer[],
  declare: boolean,
  read: (incoming: IncomingMessage) => Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const server = createServer((incoming: IncomingMessage, response) => {
      read(incoming).then(resolve, reject);
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
}

/** What `readRequestBody` read of `parts` sent as one request. */
const roundTrip = (parts: Buffer[], declare: boolean): Promise<Buffer> =>
  sendAndRead(parts, declare, (incoming) => readRequestBody(incoming));

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

/** What `readRequestChunks` read of `parts` sent as one request (no declared length). */
const readChunks = (parts: Buffer[]): Promise<RequestBody> =>
  sendAndRead(parts, false, (incoming) => readRequestChunks(incoming));

describe('readRequestChunks', () => {
  it('keeps a large body sent in many chunks as those chunks until something reads it whole', async () => {
    const parts = Array.from({ length: 5 }, (_, index) =>
      Buffer.alloc(70_000, String.fromCharCode(97 + index)),
    );
    const body = await readChunks(parts);
    const whole = Buffer.concat(parts);
    expect(body.length).toBe(whole.length);
    // What undici sends: the chunks as they came, more than one of them, in order.
    const wire = body.wire();
    expect(Buffer.isBuffer(wire)).toBe(false);
    expect((wire as readonly Buffer[]).length).toBeGreaterThan(1);
    expect(Buffer.concat(wire as readonly Buffer[]).equals(whole)).toBe(true);
    expect(body.chunks()).toBe(wire);
    // Read whole once, it is one buffer from then on (joined once, not per call).
    const joined = body.whole();
    expect(joined.equals(whole)).toBe(true);
    expect(body.whole()).toBe(joined);
    expect(body.wire()).toBe(joined);
  });

  it('joins a small body sent in several chunks before it goes upstream', async () => {
    const parts = [Buffer.alloc(70_000, 'a'), Buffer.alloc(30_000, 'b')];
    const body = await readChunks(parts);
    expect(body.chunks().length).toBeGreaterThan(1);
    const wire = body.wire();
    expect(Buffer.isBuffer(wire)).toBe(true);
    expect((wire as Buffer).equals(Buffer.concat(parts))).toBe(true);
  });
});
