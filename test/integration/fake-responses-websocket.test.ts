/**
 * The fake speaks Responses over WebSocket (docs/codex-0.171-notes.md, section 4; docs/codex-protocol.md, section 5): `response.create`
 * frames, connection-scoped `previous_response_id`, the connection age limit, the frame size limit,
 * quota headers on the handshake and `codex.rate_limits` events. Over a real loopback WebSocket.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { registerAccessToken } from '../fakes/fake-backend.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import {
  enableResponsesWebSocket,
  type FakeResponsesWebSocket,
} from '../fakes/fake-responses-websocket.ts';

let fake: FakeChatGpt;
let side: FakeResponsesWebSocket;

beforeEach(async () => {
  fake = await startFakeChatGpt();
  fake.addAccount({ email: 'a@example.com' });
  registerAccessToken(fake, 'token-a', 'a@example.com');
  side = enableResponsesWebSocket(fake, { maxMessageBytes: 4096, connectionLimitSeconds: 3600 });
});

afterEach(async () => {
  await fake.close();
});

interface Opened {
  socket: WebSocket;
  headers: Record<string, string | string[] | undefined>;
}

function open(token = 'token-a'): Promise<Opened> {
  const url = `${fake.backendUrl.replace(/^http/, 'ws')}/codex/responses`;
  const socket = new WebSocket(url, {
    headers: {
      authorization: `Bearer ${token}`,
      'openai-beta': 'responses_websockets=2026-02-06',
    },
  });
  return new Promise((resolve, reject) => {
    let headers: Opened['headers'] = {};
    socket.once('upgrade', (response) => (headers = response.headers));
    socket.once('open', () => resolve({ socket, headers }));
    socket.once('unexpected-response', (_request, response) =>
      reject(new Error(`handshake ${response.statusCode}`)),
    );
    socket.once('error', reject);
  });
}

type Event = Record<string, unknown> & { type: string };

/** Sends one frame and collects events until `response.completed`, an error, or a close. */
function exchange(socket: WebSocket, frame: Record<string, unknown>): Promise<Event[]> {
  return new Promise((resolve) => {
    const events: Event[] = [];
    const finish = () => {
      socket.off('message', onMessage);
      socket.off('close', finish);
      resolve(events);
    };
    const onMessage = (data: WebSocket.RawData) => {
      const event = JSON.parse(String(data)) as Event;
      events.push(event);
      if (event.type === 'response.completed' || event.type === 'error') finish();
    };
    socket.on('message', onMessage);
    socket.on('close', finish);
    socket.send(JSON.stringify(frame));
  });
}

function create(input: unknown[], extra: Record<string, unknown> = {}) {
  return { type: 'response.create', model: 'gpt-6.2-sol', store: false, input, ...extra };
}

function completed(events: Event[]): { id: string; output: unknown[] } {
  const last = events.at(-1) as { response?: { id: string; output: unknown[] } };
  if (!last.response) throw new Error(`no response.completed: ${JSON.stringify(events)}`);
  return last.response;
}

/** The error code of an `error` frame. */
function errorCode(event: Event | undefined): unknown {
  return (event?.['error'] as { code?: unknown } | undefined)?.code;
}

const user = (text: string) => ({
  type: 'message',
  role: 'user',
  content: [{ type: 'input_text', text }],
});

describe('fake Responses over WebSocket', () => {
  it('answers the handshake with quota headers and the frame size limit', async () => {
    const { socket, headers } = await open();
    expect(headers['x-codex-websocket-max-message-bytes']).toBe('4096');
    expect(headers['x-codex-primary-used-percent']).toBeDefined();
    expect(side.connectionsOpened).toBe(1);
    socket.close();
  });

  it('refuses a handshake with an unknown token', async () => {
    await expect(open('nope')).rejects.toThrow('handshake 401');
  });

  it('streams the SSE path events after a codex.rate_limits event, and counts bytes', async () => {
    const { socket } = await open();
    const frame = create([user('hello')]);
    const events = await exchange(socket, frame);
    expect(events[0]?.type).toBe('codex.rate_limits');
    expect(events[1]?.type).toBe('response.created');
    expect(events.at(-1)?.type).toBe('response.completed');
    expect(side.turns[0]?.bytes).toBe(Buffer.byteLength(JSON.stringify(frame)));
    socket.close();
  });

  it('knows previous_response_id only on the connection that produced it', async () => {
    const first = await open();
    const response = completed(await exchange(first.socket, create([user('one')])));
    const next = await exchange(
      first.socket,
      create([user('two')], { previous_response_id: response.id }),
    );
    expect(next.at(-1)?.type).toBe('response.completed');

    const second = await open();
    const elsewhere = await exchange(
      second.socket,
      create([user('two')], { previous_response_id: response.id }),
    );
    expect(elsewhere).toHaveLength(1);
    expect(errorCode(elsewhere[0])).toBe('previous_response_not_found');
    first.socket.close();
    second.socket.close();
  });

  it('answers websocket_connection_limit_reached once the connection is older than its limit', async () => {
    fake.setNow(1_800_000_000);
    const { socket } = await open();
    fake.setNow(1_800_000_000 + 3600);
    const events = await exchange(socket, create([user('late')]));
    expect(errorCode(events[0])).toBe('websocket_connection_limit_reached');
  });

  it('refuses a frame over the advertised size by closing with 1009', async () => {
    const { socket } = await open();
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify(create([user('x'.repeat(8192))])));
    expect(await closed).toBe(1009);
    expect(side.turns).toHaveLength(0);
  });

  it('drops a connection before or after the first event when told to', async () => {
    const { socket } = await open();
    side.frameFailures.push('drop_after_first_event');
    const events = await exchange(socket, create([user('cut')]));
    expect(events.length).toBeGreaterThan(1);
    expect(events.some((event) => event.type === 'response.completed')).toBe(false);

    const again = await open();
    side.frameFailures.push('drop_before_first_event');
    expect(await exchange(again.socket, create([user('cut')]))).toHaveLength(0);
  });
});
