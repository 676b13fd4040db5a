/**
 * Request bodies: read with a size limit, decoded (Codex sends `Content-Encoding: zstd` when it
 * talks to a provider named `OpenAI`) only to read the routing fields. The original bytes and
 * their encoding are what goes upstream.
 */
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { LabError } from '../errors.ts';

/** Default limit for one request body: Codex turns with images stay well under this. */
export const defaultBodyLimitBytes = 32 * 1024 * 1024;

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const brotliDecompress = promisify(zlib.brotliDecompress);
// zstd arrived in Node 22.15/23.8; typed loosely so older type packages still compile.
const zstdDecompressCallback = (zlib as unknown as Record<string, unknown>)['zstdDecompress'] as
  | ((
      buffer: Buffer,
      options: object,
      callback: (error: Error | null, result: Buffer) => void,
    ) => void)
  | undefined;

/** Bodies from this size on go upstream as their chunks; smaller ones are joined first. */
const sendAsChunksFromBytes = 128 * 1024;

/**
 * A request body as it arrived: the chunks Node's HTTP parser delivered, uncopied, joined into one
 * buffer only when something reads the body whole (a parse, a comparison, compression). A body
 * that goes upstream as it came is sent as its chunks: joining 300 KB per request would copy it
 * once more and allocate as much again outside the JavaScript heap, and every such allocation
 * brings V8's next full garbage collection closer (docs/benchmarks.md, "Issue 11").
 */
export class RequestBody {
  #chunks: readonly Buffer[];
  /** Bytes in the body. */
  readonly length: number;

  constructor(chunks: readonly Buffer[], length: number) {
    this.#chunks = chunks;
    this.length = length;
  }

  /** The body as one buffer: the chunks joined on the first call (then only that is kept). */
  whole(): Buffer {
    const chunks = this.#chunks;
    if (chunks.length === 1) return chunks[0]!;
    const joined = chunks.length === 0 ? Buffer.alloc(0) : Buffer.concat(chunks, this.length);
    this.#chunks = [joined];
    return joined;
  }

  /** The body's bytes as they are held: the chunks it arrived in, or the one buffer they became. */
  chunks(): readonly Buffer[] {
    return this.#chunks;
  }

  /**
   * The body as undici sends it: one buffer, or for a large body the chunks in order (undici
   * writes them one after another; the caller then declares the length, which undici checks). A
   * small body is joined: copying a few dozen kilobytes costs less than undici's write per chunk.
   */
  wire(): Buffer | readonly Buffer[] {
    if (this.#chunks.length === 1 || this.length < sendAsChunksFromBytes) return this.whole();
    return this.#chunks;
  }
}

/** Bytes in a list of chunks. */
export function lengthOfChunks(chunks: readonly Buffer[]): number {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  return length;
}

/** Reads the whole body, failing with `payload_too_large` past `limitBytes`. */
export async function readRequestBody(
  request: IncomingMessage,
  limitBytes: number = defaultBodyLimitBytes,
  idleMs = 0,
): Promise<Buffer> {
  return (await readRequestChunks(request, limitBytes, idleMs)).whole();
}

/**
 * Reads the whole body as its chunks (see `RequestBody`), failing with `payload_too_large` past
 * `limitBytes`, and with `bad_request` when it stalls for `idleMs`.
 */
export async function readRequestChunks(
  request: IncomingMessage,
  limitBytes: number = defaultBodyLimitBytes,
  idleMs = 0,
): Promise<RequestBody> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge(limitBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  // A client that stops sending mid-body would otherwise hold its socket and buffers forever.
  let stalled = false;
  const socket = request.socket as IncomingMessage['socket'] | null;
  const onIdle = () => {
    stalled = true;
    request.destroy(new Error('request body stalled'));
  };
  if (idleMs > 0 && socket) {
    socket.setTimeout(idleMs);
    socket.once('timeout', onIdle);
  }
  try {
    for await (const chunk of request as AsyncIterable<Buffer>) {
      if (size + chunk.length > limitBytes) throw tooLarge(limitBytes);
      chunks.push(chunk);
      size += chunk.length;
    }
  } catch (error) {
    if (!stalled) throw error;
    throw new LabError(
      'bad_request',
      `The request body stalled for ${Math.round(idleMs / 1000)} s; the connection was closed.`,
    );
  } finally {
    if (idleMs > 0 && socket) {
      socket.setTimeout(0);
      socket.off('timeout', onIdle);
    }
  }
  return new RequestBody(chunks, size);
}

function tooLarge(limitBytes: number): LabError {
  return new LabError(
    'payload_too_large',
    `The request body is larger than the router's limit of ${Math.round(limitBytes / 1024 / 1024)} MB; compact the conversation (/compact in Codex) or start a new session.`,
  );
}

/**
 * Decodes a body by its `Content-Encoding` (identity, zstd, gzip, deflate, br), keeping the
 * decoded size under `limitBytes` so a compression bomb cannot exhaust memory.
 */
export async function decodeBody(
  body: Buffer,
  encoding: string | undefined,
  limitBytes: number = defaultBodyLimitBytes,
): Promise<Buffer> {
  const name = (encoding ?? '').trim().toLowerCase();
  if (name === '' || name === 'identity') return body;
  const options = { maxOutputLength: limitBytes };
  try {
    switch (name) {
      case 'zstd': {
        const decompress = zstdDecompressCallback;
        if (!decompress) {
          throw new LabError('bad_request', 'This Node has no zstd support; update to Node 24.');
        }
        return await new Promise<Buffer>((resolve, reject) =>
          decompress(body, options, (error, result) => (error ? reject(error) : resolve(result))),
        );
      }
      case 'gzip':
      case 'x-gzip':
        return await gunzip(body, options);
      case 'deflate':
        return await inflate(body, options);
      case 'br':
        return await brotliDecompress(body, options);
      default:
        throw new LabError('bad_request', `The router cannot read Content-Encoding "${name}".`);
    }
  } catch (error) {
    if (error instanceof LabError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw tooLarge(limitBytes);
    throw new LabError(
      'bad_request',
      `The request body is not valid ${name} data: ${(error as Error).message}.`,
    );
  }
}

/** Parses a JSON request body into an object, or fails with a clear `bad_request`. */
export function parseJsonBody(decoded: Buffer): Record<string, unknown> {
  if (decoded.length === 0) {
    throw new LabError('bad_request', 'The request body is empty; expected a JSON object.');
  }
  let value: unknown;
  try {
    value = JSON.parse(decoded.toString('utf8'));
  } catch (error) {
    throw new LabError(
      'bad_request',
      `The request body is not valid JSON (${(error as Error).message}).`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new LabError('bad_request', 'The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}
