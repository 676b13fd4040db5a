/**
 * Reads the token usage of a streamed Responses answer without slowing the stream: it keeps
 * references to the last few chunks (no copy, O(1) per chunk) and, once the stream has ended,
 * parses the `usage` object of the final `response.completed` event from that tail. The usage
 * object comes after the output in the response, so a small tail holds it even when the
 * completed event (which repeats the whole output) is large.
 */
import type { RequestTokensView } from '../view-types.ts';

/** Bytes of the stream's end kept for the usage read. */
const tailBytes = 32 * 1024;
/** The usage member's key, as it stands in the stream's bytes. */
const usageKey = Buffer.from('"usage":');

/** Watches one upstream body. */
export class UsageTap {
  readonly #chunks: Buffer[] = [];
  #size = 0;

  /** Takes one decoded chunk of the answer (a bound function: pass it as a listener). */
  readonly push = (chunk: Buffer): void => {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    // Drop whole chunks from the front while the rest still covers the tail.
    while (
      this.#chunks.length > 1 &&
      this.#size - (this.#chunks[0] as Buffer).length >= tailBytes
    ) {
      this.#size -= (this.#chunks.shift() as Buffer).length;
    }
  };

  /** The usage of the completed response, or null when the stream carried none. */
  usage(): RequestTokensView | null {
    const last = this.#chunks.at(-1);
    if (last === undefined) return null;
    // Usually the last chunk holds the key and the object after it: only they are decoded (the
    // completed event before them repeats the whole output). A key there is the last one of all.
    const key = last.lastIndexOf(usageKey);
    if (key !== -1) {
      const read = parseCompletedUsage(last.toString('utf8', key));
      if (read !== null) return read;
    }
    return parseCompletedUsage(Buffer.concat(this.#chunks).toString('utf8'));
  }
}

/**
 * The `usage` of the response in the last event of an SSE text (or its tail), as token counts;
 * null when there is none or it cannot be read. An unescaped `"usage":` can only be a JSON key
 * (quotes inside string values are escaped), and the response's usage is its last such key.
 */
export function parseCompletedUsage(text: string): RequestTokensView | null {
  const key = text.lastIndexOf('"usage":');
  if (key === -1) return null;
  let start = key + '"usage":'.length;
  while (start < text.length && /\s/.test(text.charAt(start))) start++;
  if (text.charAt(start) !== '{') return null;
  const end = objectEnd(text, start);
  if (end === -1) return null;
  let usage: Record<string, unknown>;
  try {
    usage = JSON.parse(text.slice(start, end + 1)) as Record<string, unknown>;
  } catch {
    return null;
  }
  const count = (value: unknown) =>
    typeof value === 'number' && Number.isFinite(value) ? value : 0;
  const inputDetails = (usage['input_tokens_details'] ?? {}) as Record<string, unknown>;
  const outputDetails = (usage['output_tokens_details'] ?? {}) as Record<string, unknown>;
  return {
    input: count(usage['input_tokens']),
    output: count(usage['output_tokens']),
    cached: count(inputDetails['cached_tokens']),
    reasoning: count(outputDetails['reasoning_tokens']),
  };
}

/** The index of the `}` closing the object that opens at `start`, or -1 (strings respected). */
function objectEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let index = start; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c) index++;
      else if (char === 0x22) inString = false;
      continue;
    }
    if (char === 0x22) inString = true;
    else if (char === 0x7b) depth++;
    else if (char === 0x7d && --depth === 0) return index;
  }
  return -1;
}
