/**
 * Responses over WebSocket on the fake backend, as the real one speaks it to Codex 0.171
 * (docs/codex-0.171-notes.md, section 4; docs/codex-protocol.md, section 5): an upgrade on `/backend-api/codex/responses` with
 * `OpenAI-Beta: responses_websockets=2026-02-06`; requests are `response.create` text frames;
 * answers are the same events as the SSE path, one JSON text frame each. A `previous_response_id`
 * is valid only on the connection that produced it; a connection older than its limit answers
 * `websocket_connection_limit_reached`; frames over the advertised size are refused (close 1009).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FakeAccount } from './accounts.ts';
import { encryptedContentError, firstRejectedBlob } from './ciphertext.ts';
import {
  accountForBearer,
  chargeTurn,
  eventsBeforeReset,
  failureAnswer,
  fakeModelsEtag,
  liteInputError,
  nextFailure,
  observeWindow,
  parseTurn,
  rateLimitHeaders,
  responsesLiteMetadataKey,
  turnAnswer,
  turnStateFor,
} from './fake-backend.ts';
import { setCookieLines, type FakeChatGpt } from './fake-chatgpt.ts';

/** One `response.create` frame the fake received. */
export interface WebSocketTurnRecord {
  /** Which connection (1, 2, … in the order they opened). */
  connection: number;
  /** Bytes of the frame's payload as received. */
  bytes: number;
  /** The frame parsed. */
  frame: Record<string, unknown>;
  /** The `previous_response_id` it named, if any. */
  previousResponseId: string | undefined;
  /** The error code the fake answered with, or null when it streamed a response. */
  error: string | null;
}

/** The state of the fake's WebSocket side, read by tests. */
export interface FakeResponsesWebSocket {
  /** Every `response.create` frame, in order. */
  readonly turns: WebSocketTurnRecord[];
  /** Connections opened so far (handshakes answered 101). */
  connectionsOpened: number;
  /** Connections open now. */
  openConnections(): number;
  /** Seconds (fake time) after which a connection answers `websocket_connection_limit_reached`. */
  connectionLimitSeconds: number;
  /** Scripted failures for the next frames, taken one per frame, before anything else. */
  readonly frameFailures: WebSocketFrameFailure[];
  /** Closes every open connection from the server side (a dropped connection). */
  dropAll(): void;
  /**
   * Bytes read off the wire on every connection after its handshake: the frames as sent, so
   * below their payloads' sum when permessage-deflate compressed them.
   */
  wireBytes(): number;
}

/** A failure the next `response.create` frame meets. */
export type WebSocketFrameFailure =
  /** The connection closes before any event is sent. */
  | 'drop_before_first_event'
  /** Some events are sent, then the connection closes without `response.completed`. */
  | 'drop_after_first_event'
  /**
   * Exactly this many of the response's events are sent (after `codex.rate_limits`), then the
   * connection closes: 1 drops after `response.created`, more after real output.
   */
  | { dropAfterEvents: number }
  /** A frame naming a `previous_response_id` is answered as if the response were unknown. */
  | 'previous_response_not_found';

/** Options for `enableResponsesWebSocket`. */
export interface FakeResponsesWebSocketOptions {
  /** Advertised in `x-codex-websocket-max-message-bytes`; larger frames are refused. */
  maxMessageBytes?: number;
  /** The connection age limit in seconds of fake time (the real one is 60 minutes). */
  connectionLimitSeconds?: number;
  /**
   * Accept `permessage-deflate` when the client offers it (Codex and the router do); off by
   * default: whether chatgpt.com accepts it is not known.
   */
  perMessageDeflate?: boolean;
}

const stateKey = 'backend.responsesWebSocket';
const disposeKey = 'backend.responsesWebSocket.dispose';

/** The WebSocket side's state, once `enableResponsesWebSocket` has run. */
export function responsesWebSocket(fake: FakeChatGpt): FakeResponsesWebSocket {
  const state = fake.extensions.get(stateKey) as FakeResponsesWebSocket | undefined;
  if (!state) throw new Error('the fake has no Responses-over-WebSocket side enabled');
  return state;
}

/** What a connection remembers of a response it produced. */
interface StoredResponse {
  /** The full input of the request that produced it, followed by the items it added. */
  inputThenOutput: unknown[];
}

function errorFrame(status: number, code: string, message: string): string {
  return JSON.stringify({
    type: 'error',
    status,
    error: { type: 'invalid_request_error', code, message, param: null },
  });
}

/** The `codex.rate_limits` event for an account (docs/codex-protocol.md, section 6.2). */
export function rateLimitsEvent(account: FakeAccount, now: number): Record<string, unknown> {
  const window = (value: FakeAccount['primary']) => {
    if (!value) return null;
    observeWindow(value, now);
    return {
      used_percent: value.usedPercent,
      window_minutes: value.windowMinutes,
      reset_at: value.resetAt,
    };
  };
  const primary = window(account.primary);
  const secondary = window(account.secondary);
  const reached = [primary, secondary].some((entry) => entry !== null && entry.used_percent >= 100);
  return {
    type: 'codex.rate_limits',
    plan_type: account.plan,
    rate_limits: { allowed: !reached, limit_reached: reached, primary, secondary },
    code_review_rate_limits: null,
    credits: {
      has_credits: account.credits.hasCredits,
      unlimited: account.credits.unlimited,
      balance: account.credits.balance,
    },
    promo: null,
  };
}

/**
 * Makes the fake accept Responses over WebSocket on its responses path (the default fake refuses
 * upgrades). Returns the state tests assert on.
 */
export function enableResponsesWebSocket(
  fake: FakeChatGpt,
  options: FakeResponsesWebSocketOptions = {},
): FakeResponsesWebSocket {
  const maxMessageBytes = options.maxMessageBytes ?? 16 * 1024 * 1024;
  // The fake starts with this side on (as the real backend); a test may enable it again with its
  // own options, which replaces the earlier side and its connections.
  (fake.extensions.get(disposeKey) as (() => void) | undefined)?.();
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: maxMessageBytes,
    perMessageDeflate: options.perMessageDeflate ?? false,
  });
  const sockets = new Set<WebSocket>();
  // The TCP side of each accepted connection, and its bytes read when the handshake was done.
  const wires = new Map<Duplex, number>();
  const state: FakeResponsesWebSocket = {
    turns: [],
    connectionsOpened: 0,
    openConnections: () => sockets.size,
    connectionLimitSeconds: options.connectionLimitSeconds ?? 60 * 60,
    frameFailures: [],
    dropAll: () => {
      for (const socket of sockets) socket.terminate();
    },
    wireBytes: () => {
      let total = 0;
      for (const [wire, atHandshake] of wires) total += (wire as Socket).bytesRead - atHandshake;
      return total;
    },
  };
  fake.extensions.set(stateKey, state);
  fake.webSocketUpgrades = 'accept';

  // The handshake answer carries the quota headers, the frame size limit, the model catalog's
  // etag and the turn state, as the real one does: Codex reads the last two off the handshake
  // answer, not off each response (its responses_websocket.rs), so they are the connection's.
  const handshakeAccount = new WeakMap<IncomingMessage, FakeAccount>();
  server.on('headers', (headers, request) => {
    const account = handshakeAccount.get(request);
    headers.push(`x-codex-websocket-max-message-bytes: ${maxMessageBytes}`);
    headers.push(`x-oai-request-id: ${randomUUID()}`);
    headers.push(`x-models-etag: ${fakeModelsEtag}`);
    if (account) headers.push(`x-codex-turn-state: ${turnStateFor(fake, request, account)}`);
    const key = request.headers['sec-websocket-key'];
    const recorded = fake.upgrades.findLast(
      (upgrade) => upgrade.headers['sec-websocket-key'] === key,
    );
    for (const line of setCookieLines(fake, '/backend-api/codex/responses', recorded)) {
      headers.push(`set-cookie: ${line}`);
    }
    if (!account) return;
    for (const [name, value] of Object.entries(rateLimitHeaders(account, fake.nowSeconds()))) {
      headers.push(`${name}: ${value}`);
    }
  });

  fake.onUpgrade = (_fake, request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const check = accountForBearer(fake, request.headers.authorization);
    const accountHeader = request.headers['chatgpt-account-id'];
    const refuse = (status: string, body: string) =>
      void socket.end(
        `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    if (!check.ok) {
      refuse('401 Unauthorized', JSON.stringify({ error: { code: 'invalid_token' } }));
      return;
    }
    if (typeof accountHeader === 'string' && accountHeader !== check.account.accountId) {
      refuse('403 Forbidden', JSON.stringify({ detail: 'The ChatGPT-Account-Id does not match.' }));
      return;
    }
    const account = check.account;
    handshakeAccount.set(request, account);
    server.handleUpgrade(request, socket, head, (webSocket) => {
      wires.set(socket, (socket as Socket).bytesRead - head.length);
      state.connectionsOpened += 1;
      serveConnection(fake, state, account, webSocket, state.connectionsOpened, sockets, {
        ...request.headers,
      });
    });
  };

  const dispose = () => {
    for (const socket of sockets) socket.terminate();
    server.close();
  };
  const wrapped = fake.extensions.has(disposeKey);
  fake.extensions.set(disposeKey, dispose);
  if (!wrapped) {
    const close = fake.close.bind(fake);
    fake.close = async () => {
      (fake.extensions.get(disposeKey) as () => void)();
      await close();
    };
  }
  return state;
}

function serveConnection(
  fake: FakeChatGpt,
  state: FakeResponsesWebSocket,
  account: FakeAccount,
  webSocket: WebSocket,
  connection: number,
  sockets: Set<WebSocket>,
  handshakeHeaders: Record<string, string | string[] | undefined>,
): void {
  sockets.add(webSocket);
  const openedAt = fake.nowSeconds();
  // previous_response_id is connection state: a response is known only where it was produced.
  const responses = new Map<string, StoredResponse>();
  webSocket.on('close', () => sockets.delete(webSocket));
  webSocket.on('error', () => sockets.delete(webSocket));
  webSocket.on('message', (data, isBinary) => {
    const raw = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    // Every frame is a turn the upstream was asked for, whatever its answer.
    fake.requests.push({
      method: 'POST',
      path: '/backend-api/codex/responses',
      headers: handshakeHeaders,
      // The handshake's headers stand for the frame's (a frame has none of its own).
      rawHeaders: Object.entries(handshakeHeaders).flatMap(([name, value]) =>
        value === undefined
          ? []
          : (Array.isArray(value) ? value : [value]).flatMap((one) => [name, one]),
      ),
      body: raw.toString('utf8'),
      bytes: raw.length,
      at: Date.now(),
      transport: 'websocket',
    });
    const record = (frame: Record<string, unknown>, error: string | null): void => {
      const previous = frame['previous_response_id'];
      state.turns.push({
        connection,
        bytes: raw.length,
        frame,
        previousResponseId: typeof previous === 'string' ? previous : undefined,
        error,
      });
    };
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      record({}, 'invalid_json');
      webSocket.send(errorFrame(400, 'invalid_json', 'The frame is not JSON.'));
      return;
    }
    if (isBinary || frame['type'] !== 'response.create') {
      record(frame, 'unsupported_frame');
      webSocket.send(errorFrame(400, 'unsupported_frame', 'Expected a response.create frame.'));
      return;
    }
    if (fake.nowSeconds() - openedAt >= state.connectionLimitSeconds) {
      record(frame, 'websocket_connection_limit_reached');
      webSocket.send(
        errorFrame(
          400,
          'websocket_connection_limit_reached',
          'Responses websocket connection limit reached (60 minutes). Create a new websocket connection to continue.',
        ),
      );
      webSocket.close(1000);
      return;
    }
    const previousId = frame['previous_response_id'];
    const items = Array.isArray(frame['input']) ? (frame['input'] as unknown[]) : [];
    let fullInput = items;
    if (typeof previousId === 'string') {
      const stored = responses.get(previousId);
      if (!stored || state.frameFailures[0] === 'previous_response_not_found') {
        if (stored) state.frameFailures.shift();
        record(frame, 'previous_response_not_found');
        webSocket.send(
          errorFrame(
            400,
            'previous_response_not_found',
            `Previous response with id '${previousId}' not found.`,
          ),
        );
        return;
      }
      fullInput = [...stored.inputThenOutput, ...items];
    }
    const metadata = frame['client_metadata'] as Record<string, unknown> | undefined;
    const liteError = liteInputError(
      fullInput,
      !fake.requireLiteMarker || metadata?.[responsesLiteMetadataKey] === 'true',
    );
    if (liteError) {
      record(frame, 'invalid_value');
      webSocket.send(JSON.stringify({ type: 'error', status: 400, ...liteError }));
      return;
    }
    if (frame['generate'] === false) {
      // A prewarm (native Codex sends one when it opens the socket): a response with no output
      // and no charge, whose id the first turn may name as its previous response.
      record(frame, null);
      const responseId = `resp_${randomUUID().replaceAll('-', '')}`;
      const base = { id: responseId, object: 'response', created_at: fake.nowSeconds() };
      webSocket.send(
        JSON.stringify({
          type: 'response.created',
          sequence_number: 0,
          response: { ...base, status: 'in_progress', output: [] },
        }),
      );
      webSocket.send(
        JSON.stringify({
          type: 'response.completed',
          sequence_number: 1,
          response: { ...base, status: 'completed', output: [], usage: null },
        }),
      );
      responses.set(responseId, { inputThenOutput: [...fullInput] });
      return;
    }
    const scripted = state.frameFailures.shift();
    if (scripted === 'drop_before_first_event') {
      record(frame, scripted);
      webSocket.terminate();
      return;
    }
    const failure = nextFailure(account);
    const failed = failure ? failureAnswer(fake, account, failure) : null;
    if (failure && failed) {
      // The HTTP answer, wrapped in an error frame with its status and headers, as the real
      // WebSocket path sends it (docs/codex-protocol.md, section 5).
      record(frame, failure.kind);
      webSocket.send(
        JSON.stringify({
          type: 'error',
          status: failed.status,
          error: failed.body['error'],
          headers: failed.headers,
        }),
      );
      return;
    }
    const turn = parseTurn(Buffer.from(JSON.stringify({ ...frame, input: fullInput })));
    const rejected = firstRejectedBlob(fake, account, fullInput);
    if (rejected) {
      record(frame, 'invalid_encrypted_content');
      webSocket.send(
        JSON.stringify({
          type: 'error',
          status: 400,
          ...encryptedContentError(account, rejected.blob, rejected.check),
        }),
      );
      return;
    }
    record(frame, null);
    webSocket.send(JSON.stringify(rateLimitsEvent(account, fake.nowSeconds())));
    const answer = turnAnswer(fake, account, turn);
    const cutAt =
      typeof scripted === 'object'
        ? scripted.dropAfterEvents
        : scripted === 'drop_after_first_event' || failure?.kind === 'reset_mid_stream'
          ? eventsBeforeReset(answer)
          : null;
    if (cutAt !== null) {
      for (const payload of answer.events.slice(0, cutAt)) {
        webSocket.send(JSON.stringify(payload));
      }
      // Let the frames leave before the connection dies.
      setImmediate(() => webSocket.terminate());
      return;
    }
    responses.set(answer.responseId, { inputThenOutput: [...fullInput, ...answer.output] });
    for (const payload of answer.events) webSocket.send(JSON.stringify(payload));
    chargeTurn(account, fake.nowSeconds());
  });
}
