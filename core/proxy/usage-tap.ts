/**
 * Reads the token usage of a streamed Responses answer without slowing the stream: it keeps
 * references to the last few chunks (no copy, O(1) per chunk) and, once the stream has ended,
 * parses the `usage` object of the final `response.completed` event from that tail. The usage
 * object comes after the output in the response, so a small tail holds it even when the
 * completed event (which repeats the whole output) is large.
 */
import type { RequestEnding, RequestTokensView } from '../view-types.ts';

/** Bytes of the stream's end kept for the usage read. */
const tailBytes = 32 * 1024;
/** An SSE event's type line, as it starts a line of the stream. */
const eventLine = /(?:^|\n)event: *([^\r\n]*)\r?\n/g;
/** The last events a Responses stream may end with, and what each says of the turn. */
const lastEvents: Readonly<Record<string, RequestEnding | null>> = {
  'response.completed': null,
  'response.incomplete': null,
  'response.failed': 'upstream_error',
  error: 'upstream_error',
};
/** An SSE event's type line after the line before it, as it stands in the stream's bytes. */
const eventLineStart = Buffer.from('\nevent:');
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

  /**
   * How the stream ended, read from its last event once it is over: an error event
   * (`upstream_error`), or an event after which a Responses stream goes on (`upstream_cut`: it
   * stopped before the turn ended). Null when it ended with a last event, and when the tail holds
   * no event's start (one final event longer than the tail): nothing is claimed then.
   */
  ending(): RequestEnding | null {
    const tail = this.#chunks.at(-1);
    if (tail === undefined) return null;
    // Usually the last chunk holds the last event's type line: only that line is decoded (this
    // runs once per turn, on the hot path); else the whole tail is read.
    let last: string | null = null;
    const at = tail.lastIndexOf(eventLineStart);
    const end = at === -1 ? -1 : tail.indexOf(0x0a, at + eventLineStart.length);
    if (end !== -1) {
      last = tail.toString('utf8', at + eventLineStart.length, end).replace(/^ +|\r$/g, '');
    } else {
      for (const match of Buffer.concat(this.#chunks).toString('utf8').matchAll(eventLine)) {
        last = match[1] ?? null;
      }
    }
    if (last === null) return null;
    return Object.hasOwn(lastEvents, last) ? (lastEvents[last] ?? null) : 'upstream_cut';
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
