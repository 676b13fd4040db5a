/**
 * The upstream WebSocket pool on its own (core/proxy/upstream-websocket.ts), against the fake's
 * real Responses-over-WebSocket side on loopback, with time injected: the refused-handshake
 * cool-down, the idle close and the bound on open sockets, and the announcements held back until
 * the first output event.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createUpstreamWebSockets,
  type UpstreamWebSockets,
  type WebSocketTurnResult,
} from '../../../core/proxy/upstream-websocket.ts';
import { QuotaHeaderReader } from '../../../core/quota/headers.ts';
import { registerAccessToken } from '../../fakes/fake-backend.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../../fakes/fake-chatgpt.ts';
import {
  enableResponsesWebSocket,
  type FakeResponsesWebSocket,
} from '../../fakes/fake-responses-websocket.ts';
import { FakeClock } from '../priming/fake-clock.ts';

const token = 'access-token-alpha';
let fake: FakeChatGpt | undefined;
let pool: UpstreamWebSockets | undefined;

afterEach(async () => {
  pool?.close();
  pool = undefined;
  await fake?.close();
  fake = undefined;
});

interface World {
  fake: FakeChatGpt;
  side: FakeResponsesWebSocket;
  clock: FakeClock;
  pool: UpstreamWebSockets;
}

async function world(options: { maxSockets?: number; usagePerTurn?: number } = {}): Promise<World> {
  fake = await startFakeChatGpt({
    accounts: [
      {
        email: 'alpha@example.com',
        reply: 'Hello from alpha.',
        ...(options.usagePerTurn === undefined ? {} : { usagePerTurn: options.usagePerTurn }),
      },
    ],
  });
  registerAccessToken(fake, token, 'alpha@example.com');
  const side = enableResponsesWebSocket(fake);
  const clock = new FakeClock(1_700_000_000_000);
  pool = createUpstreamWebSockets({
    url: `${fake.backendUrl.replace('http:', 'ws:')}/codex/responses`,
    clock,
    idleMs: 60_000,
    refusedCooldownMs: 600_000,
    ...(options.maxSockets === undefined ? {} : { maxSockets: options.maxSockets }),
  });
  return { fake, side, clock, pool };
}

interface Relayed {
  result: WebSocketTurnResult;
  started: IncomingHttpHeaders | null;
  events: string[];
  /** The relayed events' sequence numbers, in order. */
  sequence: number[];
  ending: 'end' | 'abort' | null;
}

const body = (text: string, history: unknown[] = []) => ({
  model: 'gpt-6.2-sol',
  instructions: 'Be brief.',
  stream: true,
  input: [...history, { type: 'message', role: 'user', content: [{ type: 'input_text', text }] }],
});

async function turn(
  current: World,
  session: string,
  payload: Record<string, unknown> = body('hello'),
  authorization = `Bearer ${token}`,
  /** Sees every set of headers the sink is handed: the turn's head and each quota update. */
  observe: (headers: IncomingHttpHeaders) => void = () => undefined,
): Promise<Relayed> {
  const relayed: Relayed = {
    result: { ok: false, code: 'busy', message: '' },
    started: null,
    events: [],
    sequence: [],
    ending: null,
  };
  relayed.result = await current.pool.sendTurn(
    session,
    'alpha',
    authorization,
    () => ({ authorization, 'openai-beta': 'responses_websockets=2026-02-06' }),
    payload,
    {
      start: (headers) => {
        relayed.started = headers;
        observe(headers);
      },
      event: (chunk) => {
        const text = chunk.toString();
        relayed.events.push(/^event: (.*)$/m.exec(text)![1]!);
        const data = JSON.parse(/^data: (.*)$/m.exec(text)![1]!) as { sequence_number?: number };
        if (data.sequence_number !== undefined) relayed.sequence.push(data.sequence_number);
      },
      quota: observe,
      end: () => void (relayed.ending = 'end'),
      abort: () => void (relayed.ending = 'abort'),
    },
    new AbortController().signal,
  );
  return relayed;
}

const handshakes = (current: World) => current.fake.upgrades;

describe('the upstream WebSocket pool', () => {
  it('hands the quota on in one shape: while a session’s quota holds still, the engine parses it once', async () => {
    // The engine reads each set of headers with a QuotaHeaderReader, which skips a set whose
    // quota values repeat the profile's last. A turn's head and its `codex.rate_limits` update
    // must then carry the same set, or every turn parses twice.
    const current = await world({ usagePerTurn: 0 });
    const reader = new QuotaHeaderReader();
    const observe = (headers: IncomingHttpHeaders) =>
      void reader.read('alpha', headers, current.clock.now());
    for (let index = 0; index < 4; index += 1) {
      const relayed = await turn(current, 'steady', body(`turn ${index}`), undefined, observe);
      expect(relayed.result.ok).toBe(true);
      expect(relayed.started?.['x-codex-primary-used-percent']).toBeDefined();
    }
    expect(handshakes(current)).toHaveLength(1);
    expect(reader.parses).toBe(1);
    // A quota that moves is read anew.
    current.fake.account('alpha@example.com').usagePerTurn = 5;
    await turn(current, 'steady', body('turn 4'), undefined, observe);
    await turn(current, 'steady', body('turn 5'), undefined, observe);
    expect(reader.parses).toBeGreaterThan(1);
  });

  it('remembers a refused handshake per profile: HTTP for the cool-down, then one new try', async () => {
    const current = await world();
    current.fake.webSocketUpgrades = 'refuse';
    const first = await turn(current, 's1');
    expect(first.result).toMatchObject({ ok: false, code: 'handshake_refused', status: 400 });
    expect(handshakes(current)).toHaveLength(1);
    // Later turns of the profile, any session, go straight to HTTP: no second refused handshake.
    for (const session of ['s1', 's2', 's1']) {
      expect((await turn(current, session)).result).toMatchObject({
        ok: false,
        code: 'refused_recently',
      });
    }
    current.clock.advance(600_000 - 1);
    expect((await turn(current, 's1')).result).toMatchObject({ code: 'refused_recently' });
    expect(handshakes(current)).toHaveLength(1);
    // The cool-down is over: one handshake again, refused again, and the memory starts over.
    current.clock.advance(1);
    expect((await turn(current, 's1')).result).toMatchObject({ code: 'handshake_refused' });
    expect(handshakes(current)).toHaveLength(2);
    expect((await turn(current, 's1')).result).toMatchObject({ code: 'refused_recently' });
    current.clock.advance(600_000);
    current.fake.webSocketUpgrades = 'accept';
    const accepted = await turn(current, 's1');
    expect(accepted.result).toMatchObject({ ok: true, incremental: false });
    expect(accepted.ending).toBe('end');
    expect(handshakes(current)).toHaveLength(3);
  });

  it('gives up on a handshake that gets no answer after the handshake timeout: HTTP takes the turn, and the profile is remembered', async () => {
    const current = await world();
    current.fake.webSocketUpgrades = 'silent';
    const pending = turn(current, 's1');
    // The upgrade request reached the upstream, which never answers it.
    await vi.waitFor(() => expect(handshakes(current)).toHaveLength(1));
    const early = await Promise.race([pending, new Promise((resolve) => setTimeout(resolve, 50))]);
    expect(early, 'the turn waits for the timeout').toBeUndefined();
    // The one timer armed is the handshake's timeout, on the injected clock.
    expect(current.clock.pending().map((timer) => timer.delayMs)).toEqual([10_000]);
    current.clock.fireNext();
    const first = await pending;
    expect(first.result).toMatchObject({ ok: false, code: 'handshake_refused' });
    expect(first.result.ok ? '' : first.result.message).toMatch(/no answer .*10 s/);
    expect(first.started).toBeNull();
    // The unanswered connection is closed, and the next turns go straight to HTTP.
    expect(current.pool.openCount()).toBe(0);
    expect((await turn(current, 's2')).result).toMatchObject({ code: 'refused_recently' });
    expect(handshakes(current)).toHaveLength(1);
  });

  it('never reuses a socket for other credentials: a name that means another account opens its own', async () => {
    const current = await world();
    current.fake.addAccount({ email: 'beta@example.com', reply: 'Hello from beta.' });
    registerAccessToken(current.fake, 'access-token-beta', 'beta@example.com');
    expect((await turn(current, 's1', body('one'))).result.ok).toBe(true);
    // The same session and profile name, signed in to another account now (names swapped).
    const other = await turn(current, 's1', body('two'), 'Bearer access-token-beta');
    expect(other.result).toMatchObject({ ok: true, incremental: false });
    expect(handshakes(current)).toHaveLength(2);
    expect(handshakes(current).at(-1)?.headers['authorization']).toBe('Bearer access-token-beta');
    expect(current.side.turns.at(-1)!.connection).toBe(2);
    expect(current.pool.openCount()).toBe(1);
  });

  it('does not remember a 401: the token is refreshed over HTTP and the next handshake carries it', async () => {
    const current = await world();
    current.fake.webSocketUpgrades = 'accept';
    const refused = await turn(current, 's1', body('one'), 'Bearer expired-token');
    expect(refused.result).toMatchObject({ ok: false, code: 'handshake_refused', status: 401 });
    const next = await turn(current, 's1');
    expect(next.result).toMatchObject({ ok: true, incremental: false });
    expect(handshakes(current)).toHaveLength(2);
  });

  it('opens nothing once closed, even for a handshake already in flight (the process can exit)', async () => {
    const current = await world();
    const inFlight = turn(current, 's1');
    current.pool.close();
    expect((await inFlight).result).toMatchObject({ ok: false, code: 'cancelled' });
    expect((await turn(current, 's2')).result).toMatchObject({ ok: false, code: 'cancelled' });
    expect(current.fake.upgrades.length).toBeLessThanOrEqual(1);
    expect(current.pool.openCount()).toBe(0);
    await vi.waitFor(() => expect(current.side.openConnections()).toBe(0));
  });

  it('closes an idle socket when its idle timer fires, and the next turn starts in full', async () => {
    const current = await world();
    expect((await turn(current, 's1')).result.ok).toBe(true);
    expect(current.pool.openCount()).toBe(1);
    const idle = current.clock.pending();
    expect(idle.map((timer) => timer.delayMs)).toEqual([60_000]);
    current.clock.fireNext();
    expect(current.pool.openCount()).toBe(0);
    await vi.waitFor(() => expect(current.side.openConnections()).toBe(0));
    const next = await turn(current, 's1');
    expect(next.result).toMatchObject({ ok: true, incremental: false });
    expect(current.side.connectionsOpened).toBe(2);
  });

  it('a turn on a socket cancels its idle timer and arms a new one after it', async () => {
    const current = await world();
    expect((await turn(current, 's1', body('one'))).result.ok).toBe(true);
    const firstTimer = current.clock.pending()[0]!;
    current.clock.advance(59_000);
    expect((await turn(current, 's1', body('two'))).result.ok).toBe(true);
    expect(firstTimer.cancelled).toBe(true);
    expect(current.clock.pending().map((timer) => timer.dueAt)).toEqual([
      current.clock.now() + 60_000,
    ]);
    expect(current.pool.openCount()).toBe(1);
  });

  it('at the bound, closes the least recently used idle socket for a new one', async () => {
    const current = await world({ maxSockets: 2 });
    expect((await turn(current, 'old')).result.ok).toBe(true);
    expect((await turn(current, 'recent')).result.ok).toBe(true);
    // `old` is used again, so `recent` is now the least recently used.
    expect((await turn(current, 'old')).result.ok).toBe(true);
    expect(current.side.connectionsOpened).toBe(2);
    expect((await turn(current, 'new')).result.ok).toBe(true);
    expect(current.pool.openCount()).toBe(2);
    await vi.waitFor(() => expect(current.side.openConnections()).toBe(2));
    // `old` kept its socket (connection 1); `recent` lost its own and opens a fourth.
    expect((await turn(current, 'old')).result.ok).toBe(true);
    expect(current.side.turns.at(-1)!.connection).toBe(1);
    expect((await turn(current, 'recent')).result.ok).toBe(true);
    expect(current.side.turns.at(-1)!.connection).toBe(4);
    expect(current.side.connectionsOpened).toBe(4);
  });

  it('holds response.created back: a drop right after it is a fallback with nothing relayed', async () => {
    const current = await world();
    current.side.frameFailures.push({ dropAfterEvents: 1 });
    const dropped = await turn(current, 's1');
    expect(dropped.result).toMatchObject({ ok: false, code: 'dropped_before_first_event' });
    expect(dropped.started).toBeNull();
    expect(dropped.events).toEqual([]);
    expect(dropped.ending).toBeNull();
  });

  it('after output was relayed, a drop resumes the turn in full on a new socket as one unbroken stream', async () => {
    const current = await world();
    expect((await turn(current, 's1')).result.ok).toBe(true);
    // created, the reasoning item added and done (Codex records it), then the socket drops.
    current.side.frameFailures.push({ dropAfterEvents: 3 });
    const resumed = await turn(current, 's1', body('two'));
    expect(resumed.result.ok).toBe(true);
    expect(resumed.ending).toBe('end');
    const clean = await turn(current, 'other', body('two'));
    // Exactly what an unbroken answer carries: the reasoning item once, then the message.
    expect(resumed.events).toEqual(clean.events);
    expect(resumed.sequence).toEqual(resumed.sequence.map((_value, index) => index));
    const frames = current.side.turns.filter((frame) => frame.connection <= 2);
    expect(
      frames.map((frame) => [frame.connection, frame.previousResponseId === undefined]),
    ).toEqual([
      [1, true],
      [1, true],
      [2, true],
    ]);
    // The upstream's stored answer is not what Codex holds: the next turn goes in full again.
    expect((await turn(current, 's1', body('three'))).result).toMatchObject({
      ok: true,
      incremental: false,
    });
  });

  it('cuts the stream when the resume drops too, and the next turn goes in full on a new socket', async () => {
    const current = await world();
    current.side.frameFailures.push({ dropAfterEvents: 3 }, { dropAfterEvents: 1 });
    const cut = await turn(current, 's1');
    expect(cut.result.ok).toBe(true);
    expect(cut.events).toEqual([
      'response.created',
      'response.output_item.added',
      'response.output_item.done',
    ]);
    expect(cut.ending).toBe('abort');
    const retry = await turn(current, 's1');
    expect(retry.result).toMatchObject({ ok: true, incremental: false });
    expect(retry.events.at(-1)).toBe('response.completed');
    expect(current.side.turns.at(-1)!.previousResponseId).toBeUndefined();
    expect(current.side.turns.at(-1)!.connection).toBe(3);
  });
});
