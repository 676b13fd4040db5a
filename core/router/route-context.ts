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

/** Header names (lower case) holding the conversation id, in order of preference. */
const sessionHeaderNames = ['session-id', 'session_id', 'thread-id'] as const;

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
export function extractRouteContext(headers: RequestHeaders, body: unknown): RouteContext {
  let sessionHeader: [string | null, string | null, string | null] | null = null;
  let windowId: string | null = null;
  let turnMetadata: string | null = null;
  let headerProfile: string | null = null;
  let turnState: string | null = null;

  for (const rawName in headers) {
    const value = headers[rawName];
    if (value === undefined) continue;
    // Node already lower-cases names; only pay for toLowerCase when a name has upper case.
    const name = hasUpperCase(rawName) ? rawName.toLowerCase() : rawName;
    switch (name) {
      case 'session-id':
      case 'session_id':
      case 'thread-id': {
        sessionHeader ??= [null, null, null];
        sessionHeader[sessionHeaderNames.indexOf(name)] = cleanKey(firstValue(value));
        break;
      }
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

  let sessionId: string | null = null;
  let sessionSource: SessionSource | null = null;
  if (sessionHeader) {
    sessionId = sessionHeader[0] ?? sessionHeader[1] ?? sessionHeader[2];
    if (sessionId !== null) sessionSource = 'header';
  }
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

/** The facts read from `x-codex-turn-metadata`, or null when it is not a JSON object. */
function parseTurnMetadata(text: string): { repo: string | null; model: string | null } | null {
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

function firstValue(value: string | string[]): string | null {
  return typeof value === 'string' ? value : (value[0] ?? null);
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
