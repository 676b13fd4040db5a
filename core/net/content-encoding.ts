/**
 * Reading an HTTP answer's `Content-Encoding`: the one table of the encodings Codex Lab decodes,
 * for the router's stream taps and for its own calls (`outboundFetch`) alike.
 */
import type { Transform } from 'node:stream';
import * as zlib from 'node:zlib';

/** zstd's streaming decoder, on a Node that has one (22.15 and later), else null. */
const createZstdDecompress = (zlib as unknown as Record<string, unknown>)[
  'createZstdDecompress'
] as (() => Transform) | undefined;

/** What Codex 0.171 puts in `Accept-Encoding`: zstd and gzip, or gzip alone on a Node without zstd. */
export const acceptedEncodings = createZstdDecompress === undefined ? 'gzip' : 'zstd,gzip';

/**
 * A streaming decoder for an answer's `Content-Encoding`: null for identity, undefined for an
 * encoding this Node cannot read (the caller then leaves the body as it came).
 */
export function responseDecoder(encoding: string | null | undefined): Transform | null | undefined {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case '':
    case 'identity':
      return null;
    case 'zstd':
      return createZstdDecompress?.();
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return undefined;
  }
}
