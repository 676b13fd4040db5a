/**
 * Responses over WebSocket to the upstream, one socket per (session, profile), as native Codex
 * talks to OpenAI (docs/routing.md, "Upstream transport"). Codex still talks HTTP/SSE to the
 * router; a turn that extends the previous one on the same socket goes as a `response.create`
 * frame with only the new items and `previous_response_id`, any other as a full one. Anything that
 * goes wrong before the first output event is relayed (the announcements before it are held back)
 * comes back as a value so the caller sends the turn as a full HTTP request: the router always
 * holds the whole input (Codex sent it). A profile whose handshake was refused goes straight to
 * HTTP for a cool-down.
 */
import type { IncomingHttpHeaders } from 'node:http';
import WebSocket from 'ws';
import {
  bodyLayout,
  completedResponseId,
  extensionOf,
  fullFrameOf,
  joinedOf,
  withFrameMetadata,
  type BodyBytes,
  type BodyLayout,
} from './incremental-input.ts';
import {
  cookieJarKey,
  cookieOrigin,
  type CloudflareCookieJars,
} from '../net/cloudflare-cookies.ts';
import { webSocketConnection } from '../net/proxy-dispatchers.ts';
import type { Cancel, Clock } from '../ports.ts';

/** Why a turn could not go over the upstream WebSocket; the caller then sends it over HTTP. */
export type WebSocketTurnFallback =
  | 'handshake_refused'
  | 'refused_recently'
  | 'busy'
  | 'too_large'
  | 'dropped_before_first_event'
  | 'upstream_error'
  | 'not_json'
  /** Codex went away, or the router is closing: nothing more is sent. */
  | 'cancelled';

/** The outcome of `sendTurn`. */
export type WebSocketTurnResult =
  | { ok: true; bytesSent: number; incremental: boolean }
  | {
      ok: false;
      code: WebSocketTurnFallback;
      message: string;
      status?: number;
      /** For an `error` frame: its error's `code` (null when it has none). */
      errorCode?: string | null;
      /** For an `error` frame: its error as the HTTP answer's body (`{"error":…}`). */
      body?: string;
      /** For an `error` frame: the headers it carries (the HTTP answer's, quota included). */
      headers?: IncomingHttpHeaders;
    };

/**
 * Whether an `error` frame's code is about the WebSocket itself (a response id this connection
 * does not hold, its 60-minute limit): the turn then goes again in full, on HTTP. Any other error
 * frame is the upstream's answer to the request, which its HTTP twin would have given too.
 */
export function webSocketTransportError(code: string | null | undefined): boolean {
  return code === 'previous_response_not_found' || code === 'websocket_connection_limit_reached';
}

/** Where a WebSocket turn's events go once the first one has arrived. */
export interface WebSocketTurnSink {
  /** Called once, with the handshake answer's headers, before the first event is relayed. */
  start(headers: IncomingHttpHeaders): void;
  /** One event, as SSE bytes (`event: …\ndata: …\n\n`, UTF-8). */
  event(chunk: Buffer): void;
  /**
   * A `codex.rate_limits` event: the socket's headers with the `x-codex-*` quota headers it
   * stands for written over the handshake's (the set the next turn's head carries).
   */
  quota(headers: IncomingHttpHeaders): void;
  /** The stream ended with the response (`response.completed`, `.failed`, `.incomplete`). */
  end(): void;
  /**
   * The upstream dropped after output reached Codex: cut Codex's stream as a dropped HTTP stream
   * is cut, so Codex retries the turn (its own retry; the router's next frame starts in full).
   */
  abort(): void;
}

/** Options for `createUpstreamWebSockets`. */
export interface UpstreamWebSocketOptions {
  /** `wss://…/backend-api/codex/responses` (or `ws://127.0.0.1:…` in tests). */
  url: string;
  /** Time and timers (idle closes, the refused-handshake cool-down). */
  clock: Clock;
  /** A socket unused for this long closes (default 5 minutes). */
  idleMs?: number;
  /** At most this many sockets open; the least recently used idle one closes first (default 64). */
  maxSockets?: number;
  /**
   * After a profile's handshake is refused, its turns go straight to HTTP for this long before a
   * handshake is tried again (default 10 minutes).
   */
  refusedCooldownMs?: number;
  /**
   * A handshake with no answer after this long is given up, as a refusal: HTTP takes the turn
   * (default 10 seconds, undici's connect timeout on the HTTP path).
   */
  handshakeTimeoutMs?: number;
  /**
   * Cloudflare's cookies per account (net/cloudflare-cookies.ts): a handshake carries its
   * account's, and its answer's are kept, as Codex's own handshake does.
   */
  cookies?: CloudflareCookieJars;
}

/** Events that only announce a response: held back until real output, so a drop there is free. */
const announcements = new Set(['response.created', 'response.in_progress']);

/**
 * The event types whose content the router parses. Any other event (the deltas: most of a stream)
 * is relayed as the bytes it came in, its type read from its first member without parsing it;
 * of `response.completed`, which repeats the whole response, only `response.id` is read from its
 * bytes (`completedResponseId`; parsed when that cannot read it).
 */
const readTypes = new Set(['codex.rate_limits', 'error', 'response.output_item.done']);
const typePrefix = Buffer.from('{"type":"');
const sequenceKey = Buffer.from('"sequence_number":');
const sseEnd = Buffer.from('\n\n');

/** The `event: TYPE\ndata: ` line start of each event type seen, made once per type. */
const sseHeads = new Map<string, Buffer>();
/** Types remembered at most; an upstream inventing types past it gets its heads made per event. */
const maxSseHeads = 256;

function sseHead(type: string): Buffer {
  let head = sseHeads.get(type);
  if (head === undefined) {
    head = Buffer.from(`event: ${type}\ndata: `);
    if (sseHeads.size < maxSseHeads) sseHeads.set(type, head);
  }
  return head;
}

/** An event's type when it is its first member (as the upstream writes it), else null. */
function leadingType(data: Buffer): string | null {
  const start = typePrefix.length;
  if (data.length <= start || data.compare(typePrefix, 0, start, 0, start) !== 0) return null;
  const end = data.indexOf(0x22, start);
  if (end === -1) return null;
  const type = data.toString('latin1', start, end);
  // An escape, or a name that is not plain ASCII: left to a full parse.
  return /^[\w.-]+$/.test(type) ? type : null;
}

/**
 * An unparsed event's `sequence_number` (its last top-level occurrence; a quote inside a string
 * is escaped, so the key cannot be matched inside one), or null.
 */
function sequenceOf(data: Buffer): number | null {
  const at = data.lastIndexOf(sequenceKey);
  if (at === -1) return null;
  let end = at + sequenceKey.length;
  let value = 0;
  const first = end;
  while (end < data.length && data[end]! >= 0x30 && data[end]! <= 0x39) {
    value = value * 10 + (data[end]! - 0x30);
    end += 1;
  }
  return end === first ? null : value;
}

/** A message's bytes, whatever shape `ws` delivered them in. */
function bytesOf(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** What a socket remembers of its last completed turn. */
interface LastTurn {
  /** Every field of the request but `input` and `background`, as sent. */
  fields: Record<string, unknown>;
  /** The request's bytes and where its input is: a follow-up is compared with them. */
  layout: BodyLayout | null;
  /** What the response added: the items a follow-up carries after `input`. */
  output: Array<Record<string, unknown>>;
  responseId: string;
}

interface Entry {
  key: string;
  /** Whose credentials its handshake carried: the socket speaks for that account only. */
  credential: string;
  socket: WebSocket;
  /**
   * The handshake answer's headers, the quota ones kept current by each `codex.rate_limits`
   * event: a turn's SSE head carries them, as an HTTP answer carries its own.
   */
  headers: IncomingHttpHeaders;
  maxMessageBytes: number;
  busy: boolean;
  last: LastTurn | null;
  idleTimer: Cancel | null;
}

/** The upstream sockets of a router. */
export interface UpstreamWebSockets {
  /**
   * Sends one turn over the (session, profile) socket, relaying its events to `sink`. `credential`
   * names whose the turn is (the account, or the token when it names none): a socket speaks for
   * the account its handshake signed in as, so a turn of another (the profile's name means another
   * account since a rename) opens its own. `body` is
   * the JSON body Codex sent, as bytes (one buffer or the chunks it arrived in: compared with the
   * last turn's without joining or parsing it whole) or parsed. `handshakeHeaders` is called only
   * when the turn opens a socket (most turns reuse one). `frameMetadata` joins the frame's
   * `client_metadata`: the request's values native Codex sends in the frame, not the handshake. A
   * failure before the first output event returns `{ ok: false }` and touches nothing in `sink`.
   */
  sendTurn(
    sessionId: string,
    profile: string,
    credential: string,
    handshakeHeaders: () => Record<string, string>,
    body: BodyBytes | Record<string, unknown>,
    sink: WebSocketTurnSink,
    signal: AbortSignal,
    frameMetadata?: Readonly<Record<string, string>>,
  ): Promise<WebSocketTurnResult>;
  /** Sockets open now. */
  openCount(): number;
  /** Closes every socket. */
  close(): void;
}

/** The `x-codex-*` headers a `codex.rate_limits` event stands for (docs/quota.md). */
export function rateLimitEventHeaders(event: Record<string, unknown>): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  if (typeof event['plan_type'] === 'string') headers['x-codex-plan-type'] = event['plan_type'];
  const limits = event['rate_limits'] as Record<string, unknown> | null | undefined;
  for (const slot of ['primary', 'secondary'] as const) {
    const window = limits?.[slot] as Record<string, unknown> | null | undefined;
    if (!window) continue;
    if (window['used_percent'] !== undefined) {
      headers[`x-codex-${slot}-used-percent`] = String(window['used_percent']);
    }
    if (window['window_minutes'] !== undefined) {
      headers[`x-codex-${slot}-window-minutes`] = String(window['window_minutes']);
    }
    if (window['reset_at'] !== undefined) {
      headers[`x-codex-${slot}-reset-at`] = String(window['reset_at']);
    }
  }
  const credits = event['credits'] as Record<string, unknown> | null | undefined;
  if (credits) {
    headers['x-codex-credits-has-credits'] = String(credits['has_credits']);
    headers['x-codex-credits-unlimited'] = String(credits['unlimited']);
    if (typeof credits['balance'] === 'string') {
      headers['x-codex-credits-balance'] = credits['balance'];
    }
  }
  return headers;
}

/**
 * A parsed body as a full `response.create` frame (the path for bodies `fullFrameOf` cannot
 * splice), and its fields but `input` and `background`.
 */
function parsedFullFrame(
  whole: Record<string, unknown>,
  metadata: Readonly<Record<string, string>>,
): {
  fields: Record<string, unknown>;
  frame: string;
} {
  const { input, background: _background, ...fields } = whole;
  const items = Array.isArray(input) ? input : [];
  const clientMetadata = withFrameMetadata(fields['client_metadata'], metadata);
  if (clientMetadata !== undefined) fields['client_metadata'] = clientMetadata;
  return { fields, frame: JSON.stringify({ type: 'response.create', ...fields, input: items }) };
}

/** An error frame's `headers` object as Node's header map (string values only, names lowercased). */
function headerValues(value: unknown): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  if (typeof value !== 'object' || value === null) return headers;
  for (const [name, entry] of Object.entries(value)) {
    if (typeof entry === 'string') headers[name.toLowerCase()] = entry;
    else if (typeof entry === 'number') headers[name.toLowerCase()] = String(entry);
  }
  return headers;
}

/** A response item as Codex sends it back: what identifies it, not the server's bookkeeping. */
function sameItem(sent: unknown, produced: Record<string, unknown>): boolean {
  if (typeof sent !== 'object' || sent === null) return false;
  const item = sent as Record<string, unknown>;
  if (item['type'] !== produced['type']) return false;
  for (const field of ['call_id', 'encrypted_content', 'name', 'arguments']) {
    if (produced[field] !== undefined && item[field] !== produced[field]) return false;
  }
  if (produced['type'] === 'message') {
    return JSON.stringify(item['content']) === JSON.stringify(produced['content']);
  }
  return true;
}

/**
 * The items to send after the last response, given the items a follow-up added after the last
 * input: they must start with what the response produced. Null when they do not (then the turn
 * goes as a full `response.create`).
 */
function incrementalSuffix(
  output: ReadonlyArray<Record<string, unknown>>,
  added: unknown[],
): unknown[] | null {
  if (added.length < output.length) return null;
  for (let index = 0; index < output.length; index += 1) {
    if (!sameItem(added[index], output[index]!)) return null;
  }
  return added.slice(output.length);
}

/**
 * A reused socket's headers for a later turn: without the handshake's `x-codex-turn-state`. The
 * upstream issued it for the turn that opened the socket; native Codex starts each turn with none
 * and reads one only off a handshake, so a later turn on the same socket has none either.
 */
function withoutTurnState(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  if (!('x-codex-turn-state' in headers)) return headers;
  const { 'x-codex-turn-state': _issued, ...rest } = headers;
  return rest;
}

/** Creates the router's upstream WebSocket pool. */
export function createUpstreamWebSockets(options: UpstreamWebSocketOptions): UpstreamWebSockets {
  const { clock } = options;
  const idleMs = options.idleMs ?? 5 * 60_000;
  const maxSockets = options.maxSockets ?? 64;
  const refusedCooldownMs = options.refusedCooldownMs ?? 10 * 60_000;
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
  // Through the environment's proxy when it names one (a CONNECT tunnel), as Codex's socket goes;
  // TLS sessions resumed and one secure context for every socket (net/proxy-dispatchers.ts).
  const connection = webSocketConnection(options.url);
  // Insertion order is use order: a used entry is re-inserted, so the first idle one is the LRU.
  const entries = new Map<string, Entry>();
  // Credential -> when its handshake may be tried again. An upstream that refuses the upgrade
  // would refuse it on every turn: one refusal, then HTTP until the cool-down ends. Kept by
  // credential, not by name: a name can mean another account after a rename.
  const refusedUntil = new Map<string, number>();
  // Set by close(): no socket opens after it, whatever was in flight.
  let closed = false;
  const cancelled = { code: 'cancelled', message: 'the turn was cancelled' } as const;

  function forget(entry: Entry): void {
    if (entries.get(entry.key) === entry) entries.delete(entry.key);
    entry.idleTimer?.();
    entry.idleTimer = null;
    entry.socket.terminate();
  }

  function touch(entry: Entry): void {
    entries.delete(entry.key);
    entries.set(entry.key, entry);
    entry.idleTimer?.();
    entry.idleTimer = null;
  }

  function idle(entry: Entry): void {
    entry.busy = false;
    entry.idleTimer?.();
    entry.idleTimer = clock.setTimeout(() => forget(entry), idleMs);
  }

  function makeRoom(): void {
    while (entries.size >= maxSockets) {
      const victim = [...entries.values()].find((entry) => !entry.busy);
      if (!victim) return;
      forget(victim);
    }
  }

  function open(
    key: string,
    credential: string,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<
    Entry | { code: 'handshake_refused' | 'cancelled'; message: string; status?: number }
  > {
    if (closed || signal.aborted) return Promise.resolve(cancelled);
    // The jar is the HTTP origin's: a handshake and the HTTP requests share one host's cookies.
    const cookieJar = cookieJarKey(cookieOrigin(options.url), headers['chatgpt-account-id']);
    const cookie = options.cookies?.cookieHeader(cookieJar, clock.now());
    return new Promise((resolve) => {
      const socket = new WebSocket(options.url, {
        headers: cookie === undefined ? headers : { ...headers, cookie },
        perMessageDeflate: true,
        ...connection,
      });
      let answer: IncomingHttpHeaders = {};
      const onAbort = () => socket.terminate();
      signal.addEventListener('abort', onAbort, { once: true });
      // A path that swallows the upgrade (or drops the connection's packets) would hold the turn
      // until Codex gives up: past the timeout the handshake counts as refused.
      let timedOut = false;
      const cancelTimeout = clock.setTimeout(() => {
        timedOut = true;
        signal.removeEventListener('abort', onAbort);
        socket.removeAllListeners('open');
        socket.terminate();
        resolve({
          code: 'handshake_refused',
          message: `the upstream gave no answer to the WebSocket handshake in ${handshakeTimeoutMs / 1000} s`,
        });
      }, handshakeTimeoutMs);
      socket.once('upgrade', (response) => {
        answer = response.headers;
        options.cookies?.remember(cookieJar, response.headers['set-cookie'], clock.now());
      });
      socket.once('unexpected-response', (_request, response) => {
        options.cookies?.remember(cookieJar, response.headers['set-cookie'], clock.now());
        cancelTimeout();
        signal.removeEventListener('abort', onAbort);
        response.resume();
        socket.terminate();
        resolve({
          code: 'handshake_refused',
          message: `the upstream refused the WebSocket handshake (${response.statusCode})`,
          ...(response.statusCode === undefined ? {} : { status: response.statusCode }),
        });
      });
      socket.once('error', (error) => {
        cancelTimeout();
        signal.removeEventListener('abort', onAbort);
        // After a timeout the socket is terminated, which may still report an error: the turn
        // has its answer already (a second resolve is ignored).
        if (!timedOut) resolve({ code: 'handshake_refused', message: error.message });
      });
      socket.once('open', () => {
        cancelTimeout();
        signal.removeEventListener('abort', onAbort);
        socket.removeAllListeners('error');
        if (closed || signal.aborted) {
          // Nobody will use it: a socket left open here would keep the router's process alive.
          socket.terminate();
          resolve(cancelled);
          return;
        }
        const limit = Number(answer['x-codex-websocket-max-message-bytes']);
        const entry: Entry = {
          key,
          credential,
          socket,
          headers: answer,
          maxMessageBytes: Number.isFinite(limit) && limit > 0 ? limit : Infinity,
          busy: false,
          last: null,
          idleTimer: null,
        };
        // A socket that closes or fails is forgotten; the next turn opens a new one.
        socket.on('close', () => forget(entry));
        socket.on('error', () => forget(entry));
        resolve(entry);
      });
    });
  }

  async function sendTurn(
    sessionId: string,
    profile: string,
    credential: string,
    handshakeHeaders: () => Record<string, string>,
    body: BodyBytes | Record<string, unknown>,
    sink: WebSocketTurnSink,
    signal: AbortSignal,
    frameMetadata: Readonly<Record<string, string>> = {},
  ): Promise<WebSocketTurnResult> {
    if (closed || signal.aborted) return { ok: false, ...cancelled };
    const key = `${sessionId}\u0000${profile}`;
    let entry = entries.get(key);
    // Opened for another account (the name is another account's now): never reused, whatever
    // the name; a busy one is left to end its turn (this one goes by HTTP).
    if (entry && entry.credential !== credential && !entry.busy) {
      forget(entry);
      entry = undefined;
    }
    // Whether this turn's handshake opened the socket: its answer's turn state is this turn's.
    let openedNow = false;
    if (entry?.busy) return { ok: false, code: 'busy', message: 'the session socket is busy' };
    if (!entry || entry.socket.readyState !== WebSocket.OPEN) {
      if (entry) forget(entry);
      const until = refusedUntil.get(credential);
      if (until !== undefined) {
        if (clock.now() < until) {
          return {
            ok: false,
            code: 'refused_recently',
            message: 'the upstream refused this profile’s WebSocket handshake recently',
          };
        }
        refusedUntil.delete(credential);
      }
      makeRoom();
      const opened = await open(key, credential, handshakeHeaders(), signal);
      if (!('socket' in opened)) {
        // A 401 is the token, not the transport: the HTTP path refreshes it and the next turn's
        // handshake carries the new one. A turn cancelled mid-handshake says nothing either.
        if (opened.code === 'handshake_refused' && opened.status !== 401 && !signal.aborted) {
          refusedUntil.set(credential, clock.now() + refusedCooldownMs);
        }
        return { ok: false, ...opened };
      }
      entry = opened;
      entries.set(key, entry);
      openedNow = true;
    }
    const current = entry;
    touch(current);
    current.busy = true;

    // A follow-up is found by comparing bytes with the last turn's (incremental-input.ts): only
    // its new items and its per-turn `client_metadata` are parsed, and nothing is re-serialized
    // but the frame. Any other turn is joined into one buffer, and goes in full.
    const bodyBytes: BodyBytes =
      Buffer.isBuffer(body) || Array.isArray(body)
        ? (body as BodyBytes)
        : Buffer.from(JSON.stringify(body));
    let joined: Buffer | null = null;
    /** The body as one buffer, joined once when a full turn needs it. */
    const whole = (): Buffer => (joined ??= joinedOf(bodyBytes));
    const last = current.last;
    const extension = last?.layout ? extensionOf(last.layout, bodyBytes) : null;
    const suffix = last && extension ? incrementalSuffix(last.output, extension.added) : null;
    let fields: Record<string, unknown>;
    let layout: BodyLayout | null;
    // A string (an incremental frame, serialized) or the bytes of a full one (spliced).
    let text: string | Buffer;
    // A full turn is spliced from the body's bytes (nearly all of it the input, neither parsed
    // nor serialized again); a body that is not a plain object with an input array is parsed.
    const spliced =
      last && extension && suffix !== null ? null : fullFrameOf(whole(), frameMetadata);
    if (last && extension && suffix !== null) {
      // Every field but `client_metadata` (per-turn ids) is byte-identical to the last turn's.
      const clientMetadata = withFrameMetadata(
        extension.clientMetadata ?? last.fields['client_metadata'],
        frameMetadata,
      );
      fields =
        clientMetadata === last.fields['client_metadata']
          ? last.fields
          : { ...last.fields, client_metadata: clientMetadata };
      layout = extension.layout;
      text = JSON.stringify({
        type: 'response.create',
        ...fields,
        previous_response_id: last.responseId,
        input: suffix,
      });
    } else if (spliced !== null) {
      fields = spliced.fields;
      layout = spliced.layout;
      text = spliced.frame;
    } else {
      let parsed: unknown;
      try {
        parsed =
          Buffer.isBuffer(body) || Array.isArray(body)
            ? JSON.parse(whole().toString('utf8'))
            : body;
      } catch {
        parsed = null;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        idle(current);
        return { ok: false, code: 'not_json', message: 'the turn’s body is not a JSON object' };
      }
      ({ fields, frame: text } = parsedFullFrame(parsed as Record<string, unknown>, frameMetadata));
      layout = bodyLayout(whole());
    }
    const frameBytes = typeof text === 'string' ? Buffer.byteLength(text) : text.length;
    if (frameBytes > current.maxMessageBytes) {
      // The upstream would refuse it (and close the socket): HTTP carries large turns.
      current.last = null;
      idle(current);
      return {
        ok: false,
        code: 'too_large',
        message: `the turn is ${frameBytes} bytes over WebSocket`,
      };
    }

    /** The turn as a full `response.create` (a resume sends it so): built only when needed. */
    const fullFrame = (): string | Buffer => {
      if (suffix === null) return text;
      return (
        fullFrameOf(whole(), frameMetadata)?.frame ??
        parsedFullFrame(
          JSON.parse(whole().toString('utf8')) as Record<string, unknown>,
          frameMetadata,
        ).frame
      );
    };
    /** Sends a frame as text (a spliced one is UTF-8 bytes already: no round trip via a string). */
    const sendFrame = (socket: WebSocket, frame: string | Buffer): void => {
      socket.send(frame, { binary: false });
    };

    return new Promise((resolve) => {
      // The socket carrying the turn now: a resume after a drop moves it to a new one.
      let carrier = current;
      // True once output reached Codex: from then on the turn cannot be re-sent unseen.
      let started = false;
      let done = false;
      // Announcements (`response.created`, `.in_progress`) wait for the first output event.
      const held: Buffer[] = [];
      const output: Array<Record<string, unknown>> = [];
      // The type of each item whose `response.output_item.done` reached Codex, by output index.
      const completed: string[] = [];
      let lastSequence = -1;
      // Set while the turn is resumed after a drop: what of the new response Codex already has.
      let resumed: { skip: string[]; indexes: Set<number>; ids: Set<string> } | null = null;
      const sent: WebSocketTurnResult = {
        ok: true,
        bytesSent: frameBytes,
        incremental: suffix !== null,
      };
      const detach = (): void => {
        carrier.socket.off('message', onMessage);
        carrier.socket.off('close', onClose);
      };
      const finish = (
        result: WebSocketTurnResult,
        keep: boolean,
        ending?: 'end' | 'abort',
      ): void => {
        if (done) return;
        done = true;
        detach();
        signal.removeEventListener('abort', onAbort);
        if (started && ending === 'end') sink.end();
        else if (started && ending === 'abort') sink.abort();
        if (keep) idle(carrier);
        else forget(carrier);
        resolve(result);
      };
      const onAbort = () => finish(sent, false);
      const onClose = () => {
        if (!started) {
          finish(
            {
              ok: false,
              code: 'dropped_before_first_event',
              message: 'the upstream WebSocket closed before the first output event',
            },
            false,
          );
        } else if (resumed === null && !signal.aborted) {
          void resume();
        } else {
          // A second drop, or one the resume cannot hide: cut Codex's stream as a dropped HTTP
          // stream is cut, so Codex retries the turn itself; this socket is gone, so the retry
          // goes in full on a new one.
          finish(sent, false, 'abort');
        }
      };

      /**
       * Output already reached Codex when the socket dropped. Codex keeps every item whose
       * `output_item.done` it received (its own retry would record them twice), so the router
       * sends the same full turn once more on a new socket and relays the new response as the
       * rest of the same stream: its announcements and its first items, the ones Codex already
       * holds (same position, same type), are left out; the rest follows, numbered on.
       */
      async function resume(): Promise<void> {
        detach();
        forget(carrier);
        resumed = { skip: [...completed], indexes: new Set(), ids: new Set() };
        makeRoom();
        const opened = await open(key, credential, handshakeHeaders(), signal);
        if (!('socket' in opened)) return finish(sent, false, 'abort');
        if (done) return void opened.socket.terminate();
        carrier = opened;
        entries.set(key, carrier);
        touch(carrier);
        carrier.busy = true;
        const full = fullFrame();
        const fullBytes = typeof full === 'string' ? Buffer.byteLength(full) : full.length;
        if (fullBytes > carrier.maxMessageBytes) return finish(sent, false, 'abort');
        carrier.socket.on('message', onMessage);
        carrier.socket.on('close', onClose);
        sendFrame(carrier.socket, full);
      }

      /** While resumed: false for an event of an item Codex already holds (or an announcement). */
      const wanted = (type: string, event: Record<string, unknown>): boolean | 'mismatch' => {
        if (resumed === null) return true;
        if (announcements.has(type)) return false;
        const index = typeof event['output_index'] === 'number' ? event['output_index'] : null;
        const item = event['item'] as { id?: unknown; type?: unknown } | undefined;
        if (
          type === 'response.output_item.added' &&
          index !== null &&
          index < resumed.skip.length
        ) {
          if (item?.type !== resumed.skip[index]) return 'mismatch';
          resumed.indexes.add(index);
          if (typeof item?.id === 'string') resumed.ids.add(item.id);
          return false;
        }
        if (index !== null && resumed.indexes.has(index)) return false;
        const itemId = event['item_id'] ?? item?.id;
        return !(typeof itemId === 'string' && resumed.ids.has(itemId));
      };

      const onMessage = (data: WebSocket.RawData, isBinary: boolean) => {
        if (isBinary) return;
        let bytes = bytesOf(data);
        let type = resumed === null ? leadingType(bytes) : null;
        // Parsed only when the router reads it (or must renumber it after a resume).
        let event: Record<string, unknown> | null = null;
        const completedId = type === 'response.completed' ? completedResponseId(bytes) : null;
        if (
          type === null ||
          readTypes.has(type) ||
          (type === 'response.completed' && !completedId)
        ) {
          try {
            event = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
          } catch {
            return;
          }
          if (typeof event !== 'object' || event === null) return;
          type = String(event['type'] ?? '');
        }
        if (type === 'codex.rate_limits') {
          const fresh = rateLimitEventHeaders(event!);
          // Codex reads the quota off each answer's head (its HTTP path ignores these events):
          // the socket's headers would otherwise say what the handshake said, an hour before.
          carrier.headers = { ...carrier.headers, ...fresh };
          // The whole set, as the turn's head carries it: the engine skips a set whose quota
          // values repeat the last it read, and the update alone would differ from the head.
          sink.quota(carrier.headers);
          return;
        }
        if (type === 'error' && !started) {
          // The upstream's answer before any output: the caller decides what it means (see
          // `webSocketTransportError`). The connection stays for the session's next turn, in
          // full, unless the answer was about the connection itself.
          const status = Number(event!['status'] ?? event!['status_code']);
          const error = event!['error'] as { code?: unknown; type?: unknown } | undefined;
          const headers = event!['headers'];
          const errorCode = typeof error?.code === 'string' ? error.code : null;
          carrier.last = null;
          finish(
            {
              ok: false,
              code: 'upstream_error',
              message: `the upstream answered ${String(error?.code ?? error?.type ?? 'an error')} over WebSocket`,
              ...(Number.isFinite(status) ? { status } : {}),
              errorCode,
              body: JSON.stringify({ error: error ?? null }),
              headers: headerValues(headers),
            },
            Number.isFinite(status) && !webSocketTransportError(errorCode),
          );
          return;
        }
        if (resumed !== null) {
          // Every event is parsed while resumed (see above).
          const parsed = event!;
          const keep = type === 'error' ? 'mismatch' : wanted(type, parsed);
          if (keep === 'mismatch') return finish(sent, false, 'abort');
          if (!keep) return;
          if (typeof parsed['sequence_number'] === 'number') {
            // One stream for Codex: the new response's numbers continue the first one's.
            lastSequence += 1;
            bytes = Buffer.from(JSON.stringify({ ...parsed, sequence_number: lastSequence }));
          }
        } else if (event !== null) {
          if (typeof event['sequence_number'] === 'number') lastSequence = event['sequence_number'];
        } else {
          lastSequence = sequenceOf(bytes) ?? lastSequence;
        }
        const chunk = Buffer.concat([sseHead(type), bytes, sseEnd]);
        if (!started) {
          if (announcements.has(type)) {
            held.push(chunk);
            return;
          }
          started = true;
          sink.start(openedNow ? carrier.headers : withoutTurnState(carrier.headers));
          for (const announcement of held) sink.event(announcement);
        }
        sink.event(chunk);
        if (type === 'response.output_item.done') {
          const item = event!['item'];
          if (typeof item === 'object' && item !== null) {
            output.push(item as Record<string, unknown>);
            if (resumed === null) completed.push(String((item as { type?: unknown }).type));
          }
        }
        if (type === 'response.completed') {
          const id =
            completedId ?? (event?.['response'] as { id?: unknown } | undefined)?.id ?? null;
          // After a resume, the upstream's stored response differs from what Codex holds (its
          // first items came from the dropped one): the next turn goes in full.
          carrier.last =
            typeof id === 'string' && resumed === null
              ? { fields, layout, output, responseId: id }
              : null;
          finish(sent, true, 'end');
        } else if (
          type === 'response.failed' ||
          type === 'response.incomplete' ||
          type === 'error'
        ) {
          carrier.last = null;
          finish(sent, true, 'end');
        }
      };
      current.socket.on('message', onMessage);
      current.socket.on('close', onClose);
      signal.addEventListener('abort', onAbort, { once: true });
      sendFrame(current.socket, text);
    });
  }

  return {
    sendTurn,
    openCount: () => entries.size,
    close() {
      closed = true;
      for (const entry of [...entries.values()]) forget(entry);
    },
  };
}
