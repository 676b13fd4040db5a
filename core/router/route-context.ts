/**
 * What the router needs to know about one request, read cheaply from its headers and parsed body:
 * the session key, the repo/model bucket, an explicit pin header and Codex's turn state.
 *
 * This runs on every routed request, so it does no allocation-heavy work: one pass over the
 * header names, and the turn-metadata JSON is parsed only when present (it is a few hundred
 * bytes).
 */

/** Request headers as Node gives them (lower-case names) or as a plain record (any case). */
export type RequestHeaders = Record<string, string | string[] | undefined>;

/** Where the session key came from. */
export type SessionSource = 'header' | 'window' | 'prompt_cache_key';

/** The routing-relevant facts of one request. */
export interface RouteContext {
  /** The conversation id the session table is keyed by, or null when the request carries none. */
  sessionId: string | null;
  /** Which field gave `sessionId`. */
  sessionSource: SessionSource | null;
  /** The first workspace path from `x-codex-turn-metadata`, for the repo bucket and repo pins. */
  repo: string | null;
  /** The model slug from the body (or the turn metadata). */
  model: string | null;
  /** The `x-codex-lab-profile` header: an explicit pin for this request. */
  headerProfile: string | null;
  /** Codex's `x-codex-turn-state` echo (hard affinity within a turn), or null. */
  turnState: string | null;
}

/**
 * How the header names are written: `lower-case` as Node gives them (`IncomingMessage.headers`,
 * which the router passes), read with one lookup each; `any-case` for any other caller, matched
 * case-insensitively.
 */
export type HeaderNameCase = 'lower-case' | 'any-case';

/** Header names (lower case) holding the conversation id, in order of preference. */
const sessionHeaderNames = ['session-id', 'session_id', 'thread-id'] as const;

/**
 * Which name lengths (ASCII, so lower-casing keeps each length) belong to a header read below,
 * indexed by length: most of the ~15 headers Codex sends are skipped on their length alone.
 */
const wantedNameLengths = new Uint8Array(64);
for (const name of [
  ...sessionHeaderNames,
  'x-codex-window-id',
  'x-codex-turn-metadata',
  'x-codex-lab-profile',
  'x-codex-turn-state',
]) {
  wantedNameLengths[name.length] = 1;
}

/** Longest session key we accept (bytes); anything longer is not a real conversation id. */
const maxKeyBytes = 256;
/** Longest model name kept (bytes): real ones are a few dozen; a longer one is not a model. */
export const maxModelBytes = 256;
/** Longest repository path kept (bytes): the usual PATH_MAX. */
export const maxRepoBytes = 4096;

/**
 * Extracts the route context of one request. Header names are matched case-insensitively;
 * `body` is the parsed JSON body (anything else is ignored). Never throws.
 */
export function extractRouteContext(
  headers: RequestHeaders,
  body: unknown,
  names: HeaderNameCase = 'any-case',
): RouteContext {
  // The three session headers, in order of preference (no array: this runs per request).
  let sessionDash: string | null = null;
  let sessionUnderscore: string | null = null;
  let threadId: string | null = null;
  let windowId: string | null = null;
  let turnMetadata: string | null = null;
  let headerProfile: string | null = null;
  let turnState: string | null = null;

  if (names === 'lower-case') {
    // Node's names: one lookup each, without walking the other headers Codex sends; the session
    // headers in their order of preference, each read only while none before it gave a key
    // (Codex sends `session-id` and `thread-id` alike).
    sessionDash = cleanKey(valueOf(headers['session-id']));
    if (sessionDash === null) {
      sessionUnderscore = cleanKey(valueOf(headers['session_id']));
      if (sessionUnderscore === null) threadId = cleanKey(valueOf(headers['thread-id']));
    }
    windowId = valueOf(headers['x-codex-window-id']);
    turnMetadata = valueOf(headers['x-codex-turn-metadata']);
    headerProfile = cleanKey(valueOf(headers['x-codex-lab-profile']));
    turnState = valueOf(headers['x-codex-turn-state']);
  } else {
    for (const rawName in headers) {
      // (An index past the table's end reads undefined: not wanted either.)
      if (wantedNameLengths[rawName.length] !== 1) continue;
      const value = headers[rawName];
      if (value === undefined) continue;
      // Another caller's names may be in any case.
      const name = hasUpperCase(rawName) ? rawName.toLowerCase() : rawName;
      switch (name) {
        case 'session-id':
          sessionDash = cleanKey(firstValue(value));
          break;
        case 'session_id':
          sessionUnderscore = cleanKey(firstValue(value));
          break;
        case 'thread-id':
          threadId = cleanKey(firstValue(value));
          break;
        case 'x-codex-window-id':
          windowId = firstValue(value);
          break;
        case 'x-codex-turn-metadata':
          turnMetadata = firstValue(value);
          break;
        case 'x-codex-lab-profile':
          headerProfile = cleanKey(firstValue(value));
          break;
        case 'x-codex-turn-state':
          turnState = firstValue(value);
          break;
        default:
          break;
      }
    }
  }

  let sessionId: string | null = sessionDash ?? sessionUnderscore ?? threadId;
  let sessionSource: SessionSource | null = sessionId === null ? null : 'header';
  if (sessionId === null && windowId !== null) {
    const colon = windowId.indexOf(':');
    sessionId = cleanKey(colon === -1 ? windowId : windowId.slice(0, colon));
    if (sessionId !== null) sessionSource = 'window';
  }

  const bodyObject = isRecord(body) ? body : null;
  if (sessionId === null && bodyObject) {
    const key = bodyObject.prompt_cache_key;
    if (typeof key === 'string') {
      sessionId = cleanKey(key);
      if (sessionId !== null) sessionSource = 'prompt_cache_key';
    }
  }

  let model: string | null = null;
  if (bodyObject && typeof bodyObject.model === 'string') {
    model = capped(bodyObject.model, maxModelBytes);
  }

  let repo: string | null = null;
  if (turnMetadata !== null) {
    const metadata = parseTurnMetadata(turnMetadata);
    if (metadata) {
      // The session and bucket tables keep these strings: an absurd one is dropped, not stored.
      repo = capped(metadata.repo, maxRepoBytes);
      model ??= capped(metadata.model, maxModelBytes);
    }
  }

  return {
    sessionId,
    sessionSource,
    repo,
    model,
    headerProfile,
    turnState,
  };
}

/**
 * The facts read from `x-codex-turn-metadata`, or null when it is not a JSON object (an object
 * shared by every call when read without parsing: read it before the next call).
 *
 * Codex sends about 900 bytes of metadata (22 keys) on every turn and routing needs two of them,
 * so `readCodexMetadata` finds them with a few string searches in the layout Codex writes; any
 * other layout takes `JSON.parse`, which decides as before.
 */
function parseTurnMetadata(text: string): { repo: string | null; model: string | null } | null {
  const read = readCodexMetadata(text);
  if (read !== undefined) return read;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(parsed)) return null;
  let repo: string | null = null;
  const workspaces = parsed.workspaces;
  if (isRecord(workspaces)) {
    for (const path in workspaces) {
      if (path !== '') {
        repo = path;
        break;
      }
    }
  }
  const model = typeof parsed.model === 'string' && parsed.model !== '' ? parsed.model : null;
  return { repo, model };
}

/** Character codes the reader looks at. */
const quote = 0x22;
const backslash = 0x5c;
const comma = 0x2c;
const colon = 0x3a;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;
/** How a `model` member whose value is a string begins. */
const modelMember = '"model":"';
/**
 * A `workspaces` key without its opening quote (checked after a hit): the search stops at each
 * place the pattern's first character occurs, and `w` is rare in the metadata while a quote opens
 * every token.
 */
const workspacesName = 'workspaces":';

/**
 * `parseTurnMetadata` for the metadata as Codex writes it (compact JSON: `workspaces`, when
 * present, a few members before `model`, and `model` last or followed by a few small members such
 * as `reasoning_effort`), without building the object: undefined for any other layout (then
 * `JSON.parse` decides).
 *
 * A member is at the top level when whole members follow it up to the final `}`: a nested one
 * would leave a bracket open on the way. So `model` (the last `"model":"`) is read when only whole
 * members follow it, and `workspaces` (the last before `model`) when only whole members lie
 * between its object and `model` (a nested one is followed by its parent's closing bracket).
 * Neither key may occur again among the members walked over (`JSON.parse` keeps the last of a
 * repeated key). Only from the first key read to the end is checked for escapes, which
 * could spell a key another way or need decoding: an escape before it cannot change the answer,
 * because a later member wins (with no `workspaces` at all, any escape sends the text to
 * `JSON.parse`, as it might spell one). Like any reader that does not parse every byte, this one
 * does not reject metadata that is malformed elsewhere.
 *
 * Codex 0.169 and 0.171 put `reasoning_effort` after `model` whenever an effort is set; an earlier
 * reader that wanted `model` last sent every such request to `JSON.parse`.
 */
function readCodexMetadata(
  text: string,
): { repo: string | null; model: string | null } | null | undefined {
  const last = text.length - 1;
  if (text.charCodeAt(0) !== openBrace || text.charCodeAt(last) !== closeBrace) return undefined;
  // Codex opens no object before `workspaces`, so the first brace after the root's is its value:
  // one single-character search (a memchr), where the backward searches below cost ~0.2 µs.
  const firstObject = text.indexOf('{', 1);
  const keyAt = firstObject - workspacesKey.length;
  if (keyAt > 0 && text.startsWith(workspacesKey, keyAt)) {
    const before = text.charCodeAt(keyAt - 1);
    if (before === comma || before === openBrace) {
      const read = readFromWorkspaces(text, keyAt, firstObject, last);
      if (read !== undefined) return read;
    }
  }
  // Near the end, so the backward search is short.
  const modelAt = text.lastIndexOf(modelMember);
  if (modelAt < 1) return undefined;
  const before = text.charCodeAt(modelAt - 1);
  if (before !== comma && before !== openBrace) return undefined;
  // Searched backwards from `model`: Codex writes `workspaces` a few members before it, so only the
  // header's tail is read (its first 600-odd bytes, ids and flags, are never touched).
  const nameAt = text.lastIndexOf(workspacesName, modelAt);
  const workspacesAt = nameAt - 1;
  if (nameAt !== -1 && text.charCodeAt(workspacesAt) !== quote) return undefined;
  const escaped = nameAt === -1 ? text.includes('\\') : text.indexOf('\\', workspacesAt - 1) !== -1;
  if (escaped) return undefined;
  // No escapes: the value ends at the next quote.
  const valueStart = modelAt + modelMember.length;
  const valueEnd = text.indexOf('"', valueStart);
  if (valueEnd < 0 || !wholeMembers(text, valueEnd + 1, last)) return undefined;
  const model = valueEnd === valueStart ? null : text.slice(valueStart, valueEnd);
  if (nameAt === -1) return metadataRead(null, model);
  const keyBefore = text.charCodeAt(workspacesAt - 1);
  if (keyBefore !== comma && keyBefore !== openBrace) return undefined;
  const objectStart = workspacesAt + 1 + workspacesName.length;
  if (text.charCodeAt(objectStart) !== openBrace) return undefined;
  const found = firstWorkspace(text, objectStart);
  if (found === undefined || !wholeMembers(text, found.end, modelAt - 1)) return undefined;
  return metadataRead(found.repo, model);
}

/** What `readCodexMetadata` read, one object refilled per call: its caller reads it at once. */
const readMetadata: { repo: string | null; model: string | null } = { repo: null, model: null };

function metadataRead(
  repo: string | null,
  model: string | null,
): { repo: string | null; model: string | null } {
  readMetadata.repo = repo;
  readMetadata.model = model;
  return readMetadata;
}

/** The `workspaces` key with its quotes and colon, as compact JSON writes it. */
const workspacesKey = '"workspaces":';

/**
 * `readCodexMetadata` when the first object after the root's opens at `objectStart` as the value
 * of a `workspaces` key at `keyAt`: that key is a top-level member (no object is open, and in
 * valid JSON an unescaped `,"workspaces":` cannot lie inside a string or an array). Then only
 * whole members may follow its object up to the final `}`, with no second `workspaces` and exactly
 * one `model` among them, a string: a later member wins in `JSON.parse`, so nothing before the key
 * can change the answer. Undefined when the text is not that (the caller tries its other reads).
 */
function readFromWorkspaces(
  text: string,
  keyAt: number,
  objectStart: number,
  last: number,
): { repo: string | null; model: string | null } | undefined {
  // From the key on, an escape could spell a key another way or need decoding.
  if (text.indexOf('\\', keyAt) !== -1) return undefined;
  const found = firstWorkspace(text, objectStart);
  if (found === undefined) return undefined;
  const repo = found.repo;
  let model: string | null | undefined;
  let at = found.end;
  while (at < last) {
    if (text.charCodeAt(at) !== comma || text.charCodeAt(at + 1) !== quote) return undefined;
    const keyEnd = text.indexOf('"', at + 2);
    if (keyEnd < 0 || text.charCodeAt(keyEnd + 1) !== colon) return undefined;
    const keyLength = keyEnd - at - 2;
    const valueAt = keyEnd + 2;
    if (keyLength === 5 && text.startsWith('model', at + 2)) {
      // A second `model`, or one that is not a string: left to the other reads.
      if (model !== undefined || text.charCodeAt(valueAt) !== quote) return undefined;
      const valueEnd = text.indexOf('"', valueAt + 1);
      if (valueEnd < 0) return undefined;
      model = valueEnd === valueAt + 1 ? null : text.slice(valueAt + 1, valueEnd);
      at = valueEnd + 1;
      continue;
    }
    if (keyLength === 10 && text.startsWith('workspaces', at + 2)) return undefined;
    at = skipValue(text, valueAt);
    if (at < 0) return undefined;
  }
  return at === last && model !== undefined ? metadataRead(repo, model) : undefined;
}

/**
 * Whether `text` from `start` to `end` is a run of whole members (`,"key":value` each, compact)
 * none of whose keys is `model` or `workspaces`.
 */
function wholeMembers(text: string, start: number, end: number): boolean {
  let at = start;
  while (at < end) {
    if (text.charCodeAt(at) !== comma || text.charCodeAt(at + 1) !== quote) return false;
    const keyEnd = stringEnd(text, at + 1);
    if (keyEnd < 0 || text.charCodeAt(keyEnd + 1) !== colon) return false;
    const keyLength = keyEnd - at - 2;
    if (
      (keyLength === 5 && text.startsWith('model', at + 2)) ||
      (keyLength === 10 && text.startsWith('workspaces', at + 2))
    ) {
      return false;
    }
    at = skipValue(text, keyEnd + 2);
    if (at < 0) return false;
  }
  return at === end;
}

/** What `firstWorkspace` found, one object refilled per call: its caller reads it at once. */
const foundWorkspace: { repo: string | null; end: number } = { repo: null, end: 0 };

function workspaceFound(repo: string | null, end: number): { repo: string | null; end: number } {
  foundWorkspace.repo = repo;
  foundWorkspace.end = end;
  return foundWorkspace;
}

/**
 * The first non-empty key of the object at `start`, and the index after the object (in one
 * object shared by every call: read it before the next); undefined when unsure (a key starting
 * with a digit, which `for…in` could list first).
 */
function firstWorkspace(
  text: string,
  start: number,
): { repo: string | null; end: number } | undefined {
  let repo: string | null = null;
  let at = skipSpace(text, start + 1);
  if (text.charCodeAt(at) === closeBrace) return workspaceFound(repo, at + 1);
  for (;;) {
    if (text.charCodeAt(at) !== quote) return undefined;
    const keyEnd = stringEnd(text, at);
    if (keyEnd < 0) return undefined;
    const first = text.charCodeAt(at + 1);
    if (first >= 0x30 && first <= 0x39) return undefined;
    if (repo === null && keyEnd > at + 1) repo = text.slice(at + 1, keyEnd);
    at = skipSpace(text, keyEnd + 1);
    if (text.charCodeAt(at) !== colon) return undefined;
    at = skipValue(text, skipSpace(text, at + 1));
    if (at < 0) return undefined;
    at = skipSpace(text, at);
    const next = text.charCodeAt(at);
    if (next === comma) {
      at = skipSpace(text, at + 1);
      continue;
    }
    return next === closeBrace ? workspaceFound(repo, at + 1) : undefined;
  }
}

/** The index of the quote closing the string that opens at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const end = text.indexOf('"', from);
    if (end < 0) return -1;
    let slashes = 0;
    while (text.charCodeAt(end - 1 - slashes) === backslash) slashes += 1;
    if (slashes % 2 === 0) return end;
    from = end + 1;
  }
}

/**
 * The index after the JSON value at `start`, or -1 when it is not one. (The request body's
 * skipper, `skipValue` in core/proxy/incremental-input.ts, reads Buffer bytes instead: sharing one
 * would turn a 300 KB body into a string or each header into a Buffer, on both hot paths.)
 */
function skipValue(text: string, start: number): number {
  const first = text.charCodeAt(start);
  if (first === quote) {
    const end = stringEnd(text, start);
    return end < 0 ? -1 : end + 1;
  }
  if (first === openBrace || first === openBracket) {
    let depth = 0;
    for (let at = start; at < text.length; at += 1) {
      const code = text.charCodeAt(at);
      if (code === quote) {
        at = stringEnd(text, at);
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
  // A number or a literal: up to the next delimiter, and only characters those may hold.
  let at = start;
  for (; at < text.length; at += 1) {
    const code = text.charCodeAt(at);
    if (code === comma || code === closeBrace || code === closeBracket || isSpace(code)) break;
    if (!isLiteralCharacter(code)) return -1;
  }
  if (at === start) return -1;
  if (first >= 0x61 && first <= 0x7a) {
    const word = text.slice(start, at);
    if (word !== 'true' && word !== 'false' && word !== 'null') return -1;
  }
  return at;
}

/** Characters of a JSON number or of `true` / `false` / `null`. */
function isLiteralCharacter(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2d ||
    code === 0x2b ||
    code === 0x2e ||
    code === 0x45 ||
    code === 0x65 ||
    (code >= 0x61 && code <= 0x7a)
  );
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

function skipSpace(text: string, start: number): number {
  let at = start;
  while (at < text.length && isSpace(text.charCodeAt(at))) at += 1;
  return at;
}

function firstValue(value: string | string[]): string | null {
  return typeof value === 'string' ? value : (value[0] ?? null);
}

/** `firstValue` of a header that may be absent. */
function valueOf(value: string | string[] | undefined): string | null {
  return value === undefined ? null : firstValue(value);
}

/** Trims a key and rejects empty or absurdly long ones (they would only bloat the table). */
function cleanKey(text: string | null): string | null {
  if (text === null) return null;
  return capped(text.trim(), maxKeyBytes);
}

/** `text` unless it is empty or longer than `maxBytes` in UTF-8 (then null). */
function capped(text: string | null, maxBytes: number): string | null {
  if (text === null || text === '') return null;
  // A UTF-8 character takes at most 3 bytes per UTF-16 unit: skip the count when clearly short.
  if (text.length * 3 <= maxBytes) return text;
  if (text.length > maxBytes || Buffer.byteLength(text, 'utf8') > maxBytes) return null;
  return text;
}

function hasUpperCase(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 65 && code <= 90) return true;
  }
  return false;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
