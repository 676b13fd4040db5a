/**
 * Whether a turn's body extends the previous turn's, read from the bytes instead of re-serializing
 * every item: Codex writes its history the same way on every turn, so a follow-up's body starts
 * with the previous body's bytes up to the end of its `input` items. One `memcmp` over that prefix
 * replaces a full parse and a serialization per item; only the new items and the per-turn
 * `client_metadata` are parsed (docs/routing.md, "Upstream transport").
 *
 * The body's layout is learned once, on a turn that goes in full: where its top-level `input`
 * array opens and closes, and where its last member `client_metadata` starts. A follow-up is
 * accepted only when it is byte-identical up to the previous `input`'s closing bracket, carries
 * whole JSON values after it, and has the same bytes after its own `input` (but the value of
 * `client_metadata`); anything else is "not an extension", and the caller sends the turn in full.
 *
 * A follow-up is compared as the chunks it arrived in (the router never joins a 300 KB body just
 * to compare it): only its bytes after the previous input's end, the new items and the members
 * after them, are taken into one buffer.
 */

import { lengthOfChunks } from './body.ts';

/** A body's bytes (JSON): the chunks it arrived in, in order, or one buffer. */
export type BodyBytes = Buffer | readonly Buffer[];

/** What is remembered of a body sent in full or incrementally: its bytes and where things are. */
export interface BodyLayout {
  /** The body's bytes, as the chunks it arrived in (one chunk when it was read whole). */
  chunks: readonly Buffer[];
  /** Bytes in the body. */
  length: number;
  /** The body's bytes from `inputClose` to its end: the members a follow-up must repeat. */
  tail: Buffer;
  /** Index of the `[` opening the top-level `input` array. */
  inputOpen: number;
  /** Index of the `]` closing it. */
  inputClose: number;
  /** Index of the `,` before a last top-level `"client_metadata":` member, or -1 when none. */
  metadataAt: number;
}

/** A follow-up that extends the previous body. */
export interface Extension {
  /** The follow-up's layout (for the turn after it). */
  layout: BodyLayout;
  /** The items after the previous input, parsed. */
  added: unknown[];
  /** The follow-up's `client_metadata` (parsed), or undefined when it has none. */
  clientMetadata: unknown;
}

const quote = 0x22;
const backslash = 0x5c;
const comma = 0x2c;
const colon = 0x3a;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;
const metadataMember = Buffer.from(',"client_metadata":');

/** One top-level member of a body: its key and where it lies (key's quote to value's end). */
export interface BodyMember {
  key: string;
  start: number;
  end: number;
}

/**
 * The layout of a JSON object body, scanning it once; null when it is not an object with a
 * top-level `input` array, or when a key could hide one (an escaped or repeated key).
 */
export function bodyLayout(raw: Buffer): BodyLayout | null {
  return scanBody(raw)?.layout ?? null;
}

/** The layout and the top-level members of a body (see `bodyLayout`), or null. */
function scanBody(raw: Buffer): { layout: BodyLayout; members: BodyMember[] } | null {
  let at = skipSpace(raw, 0);
  if (raw[at] !== openBrace) return null;
  at = skipSpace(raw, at + 1);
  let inputOpen = -1;
  let inputClose = -1;
  const members: BodyMember[] = [];
  const keys = new Set<string>();
  if (raw[at] !== closeBrace) {
    for (;;) {
      if (raw[at] !== quote) return null;
      const start = at;
      const keyEnd = skipString(raw, at);
      if (keyEnd < 0) return null;
      // An escape could spell `input` (or repeat a key): such a body is not compared by its bytes.
      const escape = raw.indexOf(backslash, at);
      if (escape !== -1 && escape < keyEnd) return null;
      const key = raw.toString('latin1', at + 1, keyEnd - 1);
      if (keys.has(key)) return null;
      keys.add(key);
      at = skipSpace(raw, keyEnd);
      if (raw[at] !== colon) return null;
      at = skipSpace(raw, at + 1);
      const valueEnd = skipValue(raw, at);
      if (valueEnd < 0) return null;
      if (key === 'input') {
        if (raw[at] !== openBracket) return null;
        inputOpen = at;
        inputClose = valueEnd - 1;
      }
      members.push({ key, start, end: valueEnd });
      at = skipSpace(raw, valueEnd);
      if (raw[at] === comma) {
        at = skipSpace(raw, at + 1);
        continue;
      }
      if (raw[at] !== closeBrace) return null;
      break;
    }
  }
  if (inputOpen === -1 || skipSpace(raw, at + 1) !== raw.length) return null;
  return {
    layout: {
      chunks: [raw],
      length: raw.length,
      tail: raw.subarray(inputClose),
      inputOpen,
      inputClose,
      metadataAt: metadataStart(raw, inputClose),
    },
    members,
  };
}

/** A turn sent in full over WebSocket: the frame's bytes, and every field but the input. */
export interface FullFrame {
  /** `{"type":"response.create",…}`: the body's own bytes, without `background`. */
  frame: Buffer;
  /** Every field of the body but `input` and `background`, parsed. */
  fields: Record<string, unknown>;
  /** The body's layout, for the turn after it. */
  layout: BodyLayout;
}

/**
 * Members a `response.create` frame does not carry: a socket's response is never a background one.
 * (`stream: true` stays: native Codex's frames carry it.)
 */
const notInFrame = new Set(['background']);
const framePrefix = Buffer.from('{"type":"response.create"');
const frameComma = Buffer.from(',');
const frameEnd = Buffer.from('}');

/**
 * `client_metadata` with the per-request values a WebSocket frame carries beside the body's own
 * (`metadata`; docs/routing.md, "Upstream transport"): the body's value when there are none.
 */
export function withFrameMetadata(
  clientMetadata: unknown,
  metadata: Readonly<Record<string, string>>,
): unknown {
  if (Object.keys(metadata).length === 0) return clientMetadata;
  const own =
    typeof clientMetadata === 'object' && clientMetadata !== null && !Array.isArray(clientMetadata)
      ? clientMetadata
      : {};
  return { ...own, ...metadata };
}

/**
 * A body as a full `response.create` frame, spliced from its bytes: the input (nearly all of a
 * long session's body) is neither parsed nor serialized again; only the other members are
 * parsed. `metadata` joins the body's `client_metadata` (which is then written anew). Null when
 * the body is not a JSON object with an `input` array, or has a member the frame carries itself
 * (`type`); the caller then parses it whole. The input's items are the upstream's to judge, as
 * they are over HTTP.
 */
export function fullFrameOf(
  raw: Buffer,
  metadata: Readonly<Record<string, string>> = {},
): FullFrame | null {
  const scanned = scanBody(raw);
  if (scanned === null) return null;
  const fieldTexts: string[] = [];
  for (const member of scanned.members) {
    if (member.key === 'type' || member.key === 'previous_response_id') return null;
    if (notInFrame.has(member.key) || member.key === 'input') continue;
    fieldTexts.push(raw.toString('utf8', member.start, member.end));
  }
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(`{${fieldTexts.join(',')}}`) as Record<string, unknown>;
  } catch {
    return null;
  }
  const clientMetadata = withFrameMetadata(fields['client_metadata'], metadata);
  const rewritten = clientMetadata !== fields['client_metadata'];
  if (rewritten) fields['client_metadata'] = clientMetadata;
  const pieces: Buffer[] = [framePrefix];
  for (const member of scanned.members) {
    if (notInFrame.has(member.key)) continue;
    if (rewritten && member.key === 'client_metadata') continue;
    pieces.push(frameComma, raw.subarray(member.start, member.end));
  }
  if (rewritten) {
    pieces.push(frameComma, Buffer.from(`"client_metadata":${JSON.stringify(clientMetadata)}`));
  }
  pieces.push(frameEnd);
  return { frame: Buffer.concat(pieces), fields, layout: scanned.layout };
}

/**
 * How `body` extends the body `previous` describes, or null when it does not: the same bytes up to
 * the previous input's closing bracket, then whole items, then the same members after the input
 * (but `client_metadata`'s value).
 */
export function extensionOf(previous: BodyLayout, body: BodyBytes): Extension | null {
  const chunks = chunksOf(body);
  const length = lengthOfChunks(chunks);
  const prefix = previous.inputClose;
  if (length <= prefix || !samePrefix(chunks, previous.chunks, prefix)) return null;
  // From here on, indexes are into `rest`: the bytes from the previous input's closing bracket on.
  const rest = bytesFrom(chunks, prefix);
  // The new items, each a whole value, up to the input's closing bracket.
  let at = skipSpace(rest, 0);
  let inputClose: number;
  if (rest[at] === closeBracket) {
    inputClose = at;
  } else {
    if (rest[at] !== comma || prefix === previous.inputOpen + 1) return null;
    for (;;) {
      at = skipValue(rest, skipSpace(rest, at + 1));
      if (at < 0) return null;
      at = skipSpace(rest, at);
      if (rest[at] === comma) continue;
      if (rest[at] !== closeBracket) return null;
      inputClose = at;
      break;
    }
  }
  // The members after the input: the same bytes, but the value of a last `client_metadata`
  // (parsed below: it parses only when it runs to the object's end, as the last member does).
  const found = rest.lastIndexOf(metadataMember);
  const metadataAt = found > inputClose ? found : -1;
  const previousTail =
    previous.metadataAt === -1 ? previous.tail.length : previous.metadataAt - previous.inputClose;
  const tail = metadataAt === -1 ? rest.length : metadataAt;
  if (
    (metadataAt === -1) !== (previous.metadataAt === -1) ||
    tail - inputClose !== previousTail ||
    rest.compare(previous.tail, 0, previousTail, inputClose, tail) !== 0
  ) {
    return null;
  }
  let added: unknown[];
  let clientMetadata: unknown;
  try {
    added =
      inputClose === 0
        ? []
        : (JSON.parse(`[${rest.toString('utf8', 1, inputClose + 1)}`) as unknown[]);
    if (metadataAt !== -1) clientMetadata = metadataValue(rest, metadataAt);
  } catch {
    return null;
  }
  return {
    layout: {
      chunks,
      length,
      tail: rest.subarray(inputClose),
      inputOpen: previous.inputOpen,
      inputClose: prefix + inputClose,
      metadataAt: metadataAt === -1 ? -1 : prefix + metadataAt,
    },
    added,
    clientMetadata,
  };
}

/** A body's bytes as a list of chunks. */
export function chunksOf(body: BodyBytes): readonly Buffer[] {
  return Buffer.isBuffer(body) ? [body] : body;
}

/** A body's bytes as one buffer (its chunks joined when there are several). */
export function joinedOf(body: BodyBytes): Buffer {
  if (Buffer.isBuffer(body)) return body;
  return body.length === 1 ? body[0]! : Buffer.concat(body);
}

/** Whether the first `length` bytes of two chunk lists (each at least that long) are the same. */
function samePrefix(left: readonly Buffer[], right: readonly Buffer[], length: number): boolean {
  let leftIndex = 0;
  let leftAt = 0;
  let rightIndex = 0;
  let rightAt = 0;
  for (let done = 0; done < length;) {
    const leftChunk = left[leftIndex]!;
    const rightChunk = right[rightIndex]!;
    const span = Math.min(leftChunk.length - leftAt, rightChunk.length - rightAt, length - done);
    if (leftChunk.compare(rightChunk, rightAt, rightAt + span, leftAt, leftAt + span) !== 0) {
      return false;
    }
    done += span;
    leftAt += span;
    rightAt += span;
    if (leftAt === leftChunk.length) {
      leftIndex += 1;
      leftAt = 0;
    }
    if (rightAt === rightChunk.length) {
      rightIndex += 1;
      rightAt = 0;
    }
  }
  return true;
}

/** The bytes from `offset` to the end as one buffer: a view when one chunk holds them all. */
function bytesFrom(chunks: readonly Buffer[], offset: number): Buffer {
  let index = 0;
  let start = offset;
  while (start >= chunks[index]!.length) {
    start -= chunks[index]!.length;
    index += 1;
  }
  const first = chunks[index]!.subarray(start);
  return index === chunks.length - 1 ? first : Buffer.concat([first, ...chunks.slice(index + 1)]);
}

/**
 * The `response.id` of a `response.completed` event read from its bytes without parsing it (the
 * event repeats the whole response: its output, and upstream its instructions and tools), by
 * skipping every other member's value; null when the event is not an object holding a `response`
 * object with a plain string `id` (no escapes), and the caller parses it.
 */
export function completedResponseId(raw: Buffer): string | null {
  const response = memberValue(raw, skipSpace(raw, 0), 'response');
  if (response === null || raw[response] !== openBrace) return null;
  const id = memberValue(raw, response, 'id');
  if (id === null || raw[id] !== quote) return null;
  const end = skipString(raw, id);
  if (end < 0) return null;
  // The string must end where a member does: a quote lost from the id would otherwise read on.
  const after = raw[skipSpace(raw, end)];
  if (after !== comma && after !== closeBrace) return null;
  const escape = raw.indexOf(backslash, id);
  if (escape !== -1 && escape < end) return null;
  return raw.toString('utf8', id + 1, end - 1);
}

/**
 * Where the value of the member `key` of the object opening at `start` begins (its other members
 * skipped whole), or null when there is none or the bytes are not such an object. Keys with
 * escapes never match (such an event is parsed instead).
 */
function memberValue(raw: Buffer, start: number, key: string): number | null {
  if (raw[start] !== openBrace) return null;
  let at = skipSpace(raw, start + 1);
  while (raw[at] === quote) {
    const keyEnd = skipString(raw, at);
    if (keyEnd < 0) return null;
    const matches =
      keyEnd - at - 2 === key.length && raw.toString('latin1', at + 1, keyEnd - 1) === key;
    at = skipSpace(raw, keyEnd);
    if (raw[at] !== colon) return null;
    at = skipSpace(raw, at + 1);
    if (matches) return at;
    const valueEnd = skipValue(raw, at);
    if (valueEnd < 0) return null;
    at = skipSpace(raw, valueEnd);
    if (raw[at] !== comma) return null;
    at = skipSpace(raw, at + 1);
  }
  return null;
}

/** Index of the `,"client_metadata":` after `from` when it is the object's last member, or -1. */
function metadataStart(raw: Buffer, from: number): number {
  const at = raw.lastIndexOf(metadataMember);
  if (at <= from) return -1;
  try {
    metadataValue(raw, at);
  } catch {
    return -1;
  }
  return at;
}

/** The value of the `client_metadata` member at `at`; throws unless it runs to the object's end. */
function metadataValue(raw: Buffer, at: number): unknown {
  const end = lastBrace(raw);
  if (raw[end] !== closeBrace) throw new SyntaxError('the body does not end with its object');
  return JSON.parse(raw.toString('utf8', at + metadataMember.length, end));
}

/** Index of the object's closing brace (the last one, before trailing space). */
function lastBrace(raw: Buffer): number {
  let at = raw.length - 1;
  while (at > 0 && isSpace(raw[at]!)) at -= 1;
  return at;
}

/** Index after the string that opens at `start`, or -1. */
function skipString(raw: Buffer, start: number): number {
  // memchr to each quote (strings are most of a body's bytes); a quote after an odd run of
  // backslashes is escaped and does not close the string.
  let at = start + 1;
  for (;;) {
    const found = raw.indexOf(quote, at);
    if (found === -1) return -1;
    let slashes = 0;
    while (raw[found - 1 - slashes] === backslash) slashes += 1;
    if (slashes % 2 === 0) return found + 1;
    at = found + 1;
  }
}

/**
 * Index after the JSON value at `start`, or -1 when there is none. (The turn-metadata header's
 * skipper, `skipValue` in core/router/route-context.ts, reads a string instead: sharing one would
 * turn a 300 KB body into a string or each header into a Buffer, on both hot paths.)
 */
function skipValue(raw: Buffer, start: number): number {
  const first = raw[start];
  if (first === undefined) return -1;
  if (first === quote) return skipString(raw, start);
  if (first === openBrace || first === openBracket) {
    let depth = 0;
    for (let at = start; at < raw.length; at += 1) {
      const code = raw[at];
      if (code === quote) {
        at = skipString(raw, at) - 1;
        if (at < 0) return -1;
      } else if (code === openBrace || code === openBracket) {
        depth += 1;
      } else if (code === closeBrace || code === closeBracket) {
        depth -= 1;
        if (depth === 0) return at + 1;
      }
    }
    return -1;
  }
  // A number or a literal: up to the next delimiter. (Its validity is JSON.parse's to judge: the
  // items are parsed, and the rest is compared to bytes a full parse accepted.)
  let at = start;
  while (at < raw.length) {
    const code = raw[at]!;
    if (code === comma || code === closeBrace || code === closeBracket || isSpace(code)) break;
    if (code === quote || code === openBrace || code === openBracket || code === colon) return -1;
    at += 1;
  }
  return at === start ? -1 : at;
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

function skipSpace(raw: Buffer, start: number): number {
  let at = start;
  while (at < raw.length && isSpace(raw[at]!)) at += 1;
  return at;
}
