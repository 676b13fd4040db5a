/**
 * The router carries HTTP turns upstream over Responses over WebSocket
 * (`CODEX_LAB_UPSTREAM_WEBSOCKET=on`, docs/routing.md "Upstream transport"): incremental frames
 * with `previous_response_id` when a turn extends the previous one, and a full request whenever the
 * WebSocket cannot carry the turn, before any byte reaches the client. Real LabService router, the
 * fake's real WebSocket side, loopback only.
 */
import { readFile, rm } from 'node:fs/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { checkEncryptedContent } from '../fakes/ciphertext.ts';
import type { RecordedRequest } from '../fakes/fake-chatgpt.ts';
import { turnStateCrossings } from '../fakes/fake-backend.ts';
import {
  enableResponsesWebSocket,
  responsesWebSocket,
  type FakeResponsesWebSocket,
} from '../fakes/fake-responses-websocket.ts';
import { codexRequestHeaders, codexToolsItem, createProse } from '../helpers/codex-like-session.ts';
import { createTestLabService, startTestRouter, type TestRouter } from '../helpers/lab-service.ts';
import { offsetClock } from '../helpers/offset-clock.ts';

async function start(
  options: {
    maxMessageBytes?: number;
    webSocket?: 'on' | 'off';
    perMessageDeflate?: boolean;
    tls?: boolean;
  } = {},
): Promise<{ current: TestRouter; side: FakeResponsesWebSocket }> {
  const router = await startTestRouter({
    homePrefix: 'codex-lab-websocket-',
    ...(options.tls ? { tls: true } : {}),
    accounts: [
      { email: 'alpha@example.com', reply: 'Hello from alpha.' },
      { email: 'beta@example.com', reply: 'Hello from beta.' },
    ],
    profiles: [
      ['alpha@example.com', 'alpha'],
      ['beta@example.com', 'beta'],
    ],
    env: { CODEX_LAB_UPSTREAM_WEBSOCKET: options.webSocket ?? 'on' },
    prepareFake: (fake) =>
      void enableResponsesWebSocket(fake, {
        ...(options.maxMessageBytes === undefined
          ? {}
          : { maxMessageBytes: options.maxMessageBytes }),
        ...(options.perMessageDeflate ? { perMessageDeflate: true } : {}),
      }),
  });
  // Every router a test starts is closed when it ends (a test may start two, one per transport).
  onTestFinished(() => router.close());
  await router.service.setActive({ profile: 'alpha' });
  return { current: router, side: responsesWebSocket(router.fake) };
}

interface Turn {
  status: number;
  profile: string | null;
  quota: string | null;
  /** The answer's head, as Codex reads it. */
  head: Headers;
  events: Array<{ type: string; item?: unknown }>;
  /** The stream broke before its end (as a dropped HTTP stream does). */
  cut: boolean;
}

/** A Codex-like conversation over HTTP: every turn re-sends the whole history. */
class Conversation {
  readonly history: unknown[] = [];

  readonly current: TestRouter;
  readonly session: string;
  private turns = 0;

  constructor(current: TestRouter, session: string, options: { tools?: boolean } = {}) {
    this.current = current;
    this.session = session;
    // Codex 0.171 sends its tools as the input's first item (a Responses Lite request).
    if (options.tools) this.history.push(codexToolsItem(createProse(), { tools: 4 }));
  }

  /**
   * Sends the next request with the user's `text`; `turnState` is the token Codex echoes on the
   * later requests of one turn (the one the turn's first answer carried).
   */
  async turn(text: string, turnState?: string): Promise<Turn> {
    this.history.push({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
    const turn = this.turns++;
    const response = await fetch(`${this.current.url}/backend-api/codex/responses`, {
      method: 'POST',
      // Codex 0.171's headers; a turn's metadata names the turn.
      headers: {
        ...codexRequestHeaders({ session: this.session, turn, token: this.current.token }),
        ...(turnState === undefined ? {} : { 'x-codex-turn-state': turnState }),
      },
      body: JSON.stringify({
        model: 'gpt-6.2-sol',
        instructions: 'Be brief.',
        stream: true,
        store: false,
        include: ['reasoning.encrypted_content'],
        prompt_cache_key: this.session,
        input: this.history,
        // Last, as Codex writes it; its turn id changes every turn.
        client_metadata: {
          'x-codex-installation-id': 'faafedb4-b152-4245-8ebe-afbf8ea471c7',
          session_id: this.session,
          turn_id: `${this.session}-turn-${turn}`,
        },
      }),
    });
    // Read what arrived even when the stream is cut, as Codex does before it retries.
    let sse = '';
    let cut = false;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body!) sse += decoder.decode(chunk, { stream: true });
    } catch {
      cut = true;
    }
    const events = sse
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as { type: string; item?: unknown });
    for (const event of events) {
      if (event.type === 'response.output_item.done') this.history.push(event.item);
    }
    return {
      status: response.status,
      profile: response.headers.get('x-codex-lab-profile'),
      quota: response.headers.get('x-codex-primary-used-percent'),
      head: response.headers,
      events,
      cut,
    };
  }
}

/** The answer's event types in order: a complete turn has exactly one created and one completed. */
function types(turn: Turn): string[] {
  return turn.events.map((event) => event.type);
}

function expectComplete(turn: Turn): void {
  expect(turn.status).toBe(200);
  expect(turn.cut).toBe(false);
  const seen = types(turn);
  expect(seen.filter((type) => type === 'response.created')).toHaveLength(1);
  expect(seen.filter((type) => type === 'response.completed')).toHaveLength(1);
  expect(seen.at(-1)).toBe('response.completed');
  // Sequence numbers run 0, 1, 2, … with none repeated or missing.
  const sequence = turn.events.map(
    (event) => (event as { sequence_number?: number }).sequence_number,
  );
  expect(sequence).toEqual(sequence.map((_value, index) => index));
}

function httpTurns(current: TestRouter): RecordedRequest[] {
  return current.fake.requests.filter(
    (request) => request.path === '/backend-api/codex/responses' && request.transport === undefined,
  );
}

describe('upstream Responses over WebSocket', () => {
  it('sends the first turn in full, then only the new items with previous_response_id', async () => {
    const { current, side } = await start();
    const chat = new Conversation(current, 'ws-steady');
    const turns: Turn[] = [];
    for (const text of ['one', 'two', 'three']) turns.push(await chat.turn(text));
    for (const turn of turns) {
      expectComplete(turn);
      expect(turn.profile).toBe('alpha');
      expect(turn.quota).not.toBeNull();
    }
    expect(httpTurns(current)).toHaveLength(0);
    expect(side.connectionsOpened).toBe(1);
    expect(side.turns.map((turn) => turn.error)).toEqual([null, null, null]);
    expect(side.turns[0]?.previousResponseId).toBeUndefined();
    expect((side.turns[0]?.frame['input'] as unknown[]).length).toBe(1);
    for (const index of [1, 2]) {
      const frame = side.turns[index]!;
      expect(frame.previousResponseId).toMatch(/^resp_/);
      // Only the new user message: the reasoning and answer items live on the upstream.
      expect((frame.frame['input'] as unknown[]).length).toBe(1);
      expect(frame.bytes).toBeLessThan(side.turns[0]!.bytes * 2);
    }
    const handshake = current.fake.upgrades[0]!;
    expect(handshake.headers['openai-beta']).toBe('responses_websockets=2026-02-06');
    expect(handshake.headers['chatgpt-account-id']).toBe(
      current.fake.account('alpha@example.com').accountId,
    );
    expect(handshake.headers['originator']).toBe('codex_exec');
    expect(String(handshake.headers['authorization'])).toMatch(/^Bearer /);
  });

  it('over TLS, resumes the TLS session for each new session’s socket instead of a full handshake', async () => {
    // Every Codex session gets its own upstream socket (its handshake carries the session's
    // identity), so a day of sessions is a day of TLS handshakes to the same origin: the router
    // resumes them. (Native Codex 0.171 resumes none: 12 full handshakes in one `exec` against the
    // fake, docs/routing.md.)
    const { current, side } = await start({ tls: true });
    for (const session of ['tls-a', 'tls-b', 'tls-c', 'tls-d']) {
      const chat = new Conversation(current, session);
      expectComplete(await chat.turn('one'));
      expectComplete(await chat.turn('two'));
    }
    expect(httpTurns(current)).toHaveLength(0);
    expect(side.connectionsOpened).toBe(4);
    const upgrades = current.fake.upgrades.map((upgrade) => upgrade.tlsResumed);
    expect(upgrades).toHaveLength(4);
    // The first socket may find no session yet (the HTTP pool's are its own); every later one
    // resumes.
    expect(upgrades.slice(1)).toEqual([true, true, true]);
  });

  it('over TLS with the WebSocket upstream off, carries a session’s turns on one kept-alive connection', async () => {
    const { current } = await start({ tls: true, webSocket: 'off' });
    const chat = new Conversation(current, 'tls-http');
    for (const text of ['one', 'two', 'three']) expectComplete(await chat.turn(text));
    expect(httpTurns(current)).toHaveLength(3);
    // The router's pool and the workspace read (`fetch`): one TLS connection each, whatever the
    // number of turns.
    const { full, resumed } = current.fake.tlsHandshakes;
    expect(full + resumed).toBeLessThanOrEqual(2);
  });

  it('goes incremental with an upstream that accepts permessage-deflate, its frames compressed on the wire', async () => {
    const { current, side } = await start({ perMessageDeflate: true });
    const chat = new Conversation(current, 'ws-deflate');
    // A long, repetitive first message: what a compressed frame shrinks.
    const turns: Turn[] = [];
    for (const text of ['Please read this file. '.repeat(2000), 'two', 'three']) {
      turns.push(await chat.turn(text));
    }
    for (const turn of turns) {
      expectComplete(turn);
      expect(turn.profile).toBe('alpha');
    }
    expect(httpTurns(current)).toHaveLength(0);
    expect(side.connectionsOpened).toBe(1);
    expect(side.turns.map((turn) => turn.previousResponseId === undefined)).toEqual([
      true,
      false,
      false,
    ]);
    const payloads = side.turns.reduce((sum, turn) => sum + turn.bytes, 0);
    expect(payloads).toBeGreaterThan(40_000);
    expect(side.wireBytes()).toBeLessThan(payloads / 4);
  });

  it('gives each turn the quota of its own codex.rate_limits event, not the handshake’s', async () => {
    const { current } = await start();
    const chat = new Conversation(current, 'ws-quota');
    const quotas: Array<string | null> = [];
    for (const text of ['one', 'two', 'three']) quotas.push((await chat.turn(text)).quota);
    // One socket for the three turns; each turn used 1% of the 5-hour window (the fake's rate),
    // and each answer's headers say so, as they do over HTTP, where every answer carries them.
    const first = Number(quotas[0]);
    expect(quotas).toEqual([String(first), String(first + 1), String(first + 2)]);
    // The router's own pool view took the same value (the handshake's, observed at each turn's
    // start, had overwritten the event's).
    const state = await current.service.getState();
    const alpha = state.profiles.find((profile) => profile.name === 'alpha');
    expect(alpha?.quota.primary?.usedPercent).toBe(first + 2);
    const viaHttp = await start({ webSocket: 'off' });
    const http = new Conversation(viaHttp.current, 'http-quota');
    const overHttp: Array<string | null> = [];
    for (const text of ['one', 'two', 'three']) overHttp.push((await http.turn(text)).quota);
    expect(overHttp).toEqual(quotas);
  });

  it('answers the same events as the HTTP path', async () => {
    const viaSocket = await start();
    const socketTurn = await new Conversation(viaSocket.current, 'same').turn('hello');
    await viaSocket.current.close();
    const viaHttp = await start({ webSocket: 'off' });
    const httpTurn = await new Conversation(viaHttp.current, 'same').turn('hello');
    expect(types(socketTurn)).toEqual(types(httpTurn));
    expect(viaHttp.side.turns).toHaveLength(0);
  });

  it('opens the socket with the headers Codex sent, and gives the handshake’s turn state to the turn that opened it only', async () => {
    const viaHttp = await start({ webSocket: 'off' });
    const httpChat = new Conversation(viaHttp.current, 'headers');
    const httpAnswers: Turn[] = [];
    for (const text of ['one', 'two']) httpAnswers.push(await httpChat.turn(text));
    const httpRequest = httpTurns(viaHttp.current)[0]!;
    await viaHttp.current.close();

    const { current, side } = await start();
    const chat = new Conversation(current, 'headers');
    const answers: Turn[] = [];
    for (const text of ['one', 'two', 'three']) answers.push(await chat.turn(text));
    expect(side.connectionsOpened).toBe(1);
    // Codex's own headers reach the upstream over either transport, as native Codex puts them
    // on its handshake (beta features, turn metadata, window and request ids, …); what only an
    // HTTP request with a body has stays off it, and so does the Responses Lite marker, which
    // each frame carries (the next test).
    const handshake = current.fake.upgrades[0]!.headers;
    const notOnHandshake = [
      'content-type',
      'content-length',
      'content-encoding',
      'accept',
      'accept-encoding',
      'x-openai-internal-codex-responses-lite',
    ];
    const codexSent = Object.keys(httpRequest.headers).filter(
      (name) => !notOnHandshake.includes(name),
    );
    expect(codexSent).toContain('x-codex-turn-metadata');
    // The routing hint native Codex sends with a ChatGPT login, which Codex through the router
    // does not: added on both transports, from the turn's model.
    expect(httpRequest.headers['x-codex-routing-hint']).toBe('model=gpt-6.2-sol');
    for (const name of codexSent) {
      // The credentials are the profile's on both; the hop's own headers are each connection's.
      if (['authorization', 'host', 'connection'].includes(name)) continue;
      expect([name, handshake[name]]).toEqual([name, httpRequest.headers[name]]);
    }
    for (const name of notOnHandshake) expect(handshake[name]).toBeUndefined();
    // The model catalog's etag comes with every answer, as over HTTP.
    for (const answer of [...answers, ...httpAnswers]) {
      expect(answer.head.get('x-models-etag')).toBe('"fake-models-1"');
    }
    // The upstream's turn state belongs to the turn it was issued for: over HTTP each turn gets
    // its own; over the socket, only the turn whose handshake carried it (native Codex starts
    // each turn with none and reads it only off a handshake).
    expect(httpAnswers.map((answer) => answer.head.get('x-codex-turn-state'))).toEqual([
      expect.stringMatching(/^ts_/),
      expect.stringMatching(/^ts_/),
    ]);
    expect(answers.map((answer) => answer.head.get('x-codex-turn-state'))).toEqual([
      expect.stringMatching(/^ts_/),
      null,
      null,
    ]);
  });

  it('keeps a routing hint Codex sent, and adds none for a model no header can carry', async () => {
    const { current } = await start({ webSocket: 'off' });
    const post = async (headers: Record<string, string>, model: string): Promise<void> => {
      const response = await fetch(`${current.url}/backend-api/codex/responses`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model, stream: true, input: [] }),
      });
      expect(response.status).toBe(200);
      await response.text();
    };
    const headers = codexRequestHeaders({ session: 'hint', turn: 0, token: current.token });
    await post({ ...headers, 'x-codex-routing-hint': 'model=own' }, 'gpt-6.2-sol');
    const { 'x-codex-turn-metadata': _metadata, ...withoutMetadata } = headers;
    await post(withoutMetadata, 'gpt 6 (beta)');
    const seen = httpTurns(current).map((request) => request.headers['x-codex-routing-hint']);
    expect(seen).toEqual(['model=own', undefined]);
  });

  it('keeps one account’s turn state off another account’s request when a turn falls over', async () => {
    for (const webSocket of ['off', 'on'] as const) {
      const { current } = await start({ webSocket });
      const chat = new Conversation(current, `turn-state-${webSocket}`);
      const first = await chat.turn('one');
      expect(first.profile).toBe('alpha');
      const alphaState = first.head.get('x-codex-turn-state')!;
      expect(alphaState).toMatch(/^ts_/);
      // A later request of the same turn echoes alpha's token; alpha is out of quota by then.
      current.fake.account('alpha@example.com').stickyFailure = {
        kind: 'usage_limit',
        resetsInSeconds: 3600,
      };
      const moved = await chat.turn('two', alphaState);
      expectComplete(moved);
      expect(moved.profile).toBe('beta');
      const toBeta = current.fake.requests.filter(
        (request) =>
          request.headers['chatgpt-account-id'] ===
          current.fake.account('beta@example.com').accountId,
      );
      expect(toBeta.length).toBeGreaterThan(0);
      for (const request of toBeta) expect(request.headers['x-codex-turn-state']).toBeUndefined();
      expect(turnStateCrossings(current.fake)).toBe(0);
      // Beta's own token goes with the turn's next request to beta, as it came.
      const betaState = moved.head.get('x-codex-turn-state')!;
      expect(betaState).toMatch(/^ts_/);
      expect(betaState).not.toBe(alphaState);
      expectComplete(await chat.turn('three', betaState));
      if (webSocket === 'off') {
        expect(current.fake.requests.at(-1)!.headers['x-codex-turn-state']).toBe(betaState);
      }
      // Over WebSocket the moved session goes on on beta's socket, whose handshake carried no
      // turn state of alpha's (a frame carries none).
      expect(turnStateCrossings(current.fake)).toBe(0);
      await current.close();
    }
  });

  it('marks each frame of a Responses Lite session as native Codex does, not the handshake', async () => {
    const { current, side } = await start();
    const chat = new Conversation(current, 'lite', { tools: true });
    for (const text of ['one', 'two', 'three']) expectComplete(await chat.turn(text));
    // Codex sent `x-openai-internal-codex-responses-lite: true` on each HTTP request; native
    // Codex over the socket carries it in each frame's client_metadata and leaves it off the
    // handshake (measured on Codex 0.171 against the fake over WSS).
    expect(httpTurns(current)).toHaveLength(0);
    expect(side.turns.map((turn) => turn.error)).toEqual([null, null, null]);
    expect(side.turns.map((turn) => turn.previousResponseId === undefined)).toEqual([
      true,
      false,
      false,
    ]);
    for (const turn of side.turns) {
      const metadata = turn.frame['client_metadata'] as Record<string, unknown>;
      expect(metadata['ws_request_header_x_openai_internal_codex_responses_lite']).toBe('true');
      // The body's own metadata is kept beside it.
      expect(metadata['x-codex-installation-id']).toBeDefined();
    }
    const handshake = current.fake.upgrades[0]!.headers;
    expect(handshake['x-openai-internal-codex-responses-lite']).toBeUndefined();
  });

  it('falls back to a full HTTP request when the handshake is refused', async () => {
    const { current, side } = await start();
    current.fake.webSocketUpgrades = 'refuse';
    const turn = await new Conversation(current, 'refused').turn('one');
    expectComplete(turn);
    expect(side.turns).toHaveLength(0);
    expect(httpTurns(current)).toHaveLength(1);
  });

  it('sends the turn in full when the upstream answers previous_response_not_found', async () => {
    const { current, side } = await start();
    const chat = new Conversation(current, 'not-found');
    expectComplete(await chat.turn('one'));
    side.frameFailures.push('previous_response_not_found');
    const turn = await chat.turn('two');
    expectComplete(turn);
    expect(side.turns.map((entry) => entry.error)).toEqual([null, 'previous_response_not_found']);
    const full = httpTurns(current);
    expect(full).toHaveLength(1);
    expect((JSON.parse(full[0]!.body) as { input: unknown[] }).input).toHaveLength(
      chat.history.length - 2,
    );
    // The next turn starts a new socket with a full response.create.
    expectComplete(await chat.turn('three'));
    expect(side.turns.at(-1)?.previousResponseId).toBeUndefined();
    expect(side.turns.at(-1)?.error).toBeNull();
  });

  it('sends the turn in full when the connection limit is reached', async () => {
    const { current, side } = await start();
    // The real limit is 60 minutes; the fake's is shortened, and fake time moves past it.
    side.connectionLimitSeconds = 60;
    const now = Math.floor(Date.now() / 1000);
    current.fake.setNow(now);
    const chat = new Conversation(current, 'aged');
    expectComplete(await chat.turn('one'));
    current.fake.setNow(now + 60);
    expectComplete(await chat.turn('two'));
    expect(side.turns.map((entry) => entry.error)).toEqual([
      null,
      'websocket_connection_limit_reached',
    ]);
    expect(httpTurns(current)).toHaveLength(1);
  });

  it('sends the turn in full when the connection drops before the first event', async () => {
    const { current, side } = await start();
    const chat = new Conversation(current, 'dropped');
    expectComplete(await chat.turn('one'));
    side.frameFailures.push('drop_before_first_event');
    expectComplete(await chat.turn('two'));
    expect(httpTurns(current)).toHaveLength(1);
  });

  it('sends a turn over the advertised frame size over HTTP, without sending the frame', async () => {
    const { current, side } = await start({ maxMessageBytes: 2048 });
    const chat = new Conversation(current, 'large');
    const turn = await chat.turn('x'.repeat(4096));
    expectComplete(turn);
    expect(side.turns).toHaveLength(0);
    expect(httpTurns(current)).toHaveLength(1);
  });

  it('sends the turn in full when the connection drops right after response.created, which was held back', async () => {
    const { current, side } = await start();
    const chat = new Conversation(current, 'announced');
    expectComplete(await chat.turn('one'));
    side.frameFailures.push({ dropAfterEvents: 1 });
    expectComplete(await chat.turn('two'));
    const full = httpTurns(current);
    expect(full).toHaveLength(1);
    expect((JSON.parse(full[0]!.body) as { input: unknown[] }).input).toHaveLength(
      chat.history.length - 2,
    );
  });

  it('resumes a turn whose connection dropped after output, in full on a new socket, as one unbroken stream', async () => {
    const { current, side } = await start();
    const chat = new Conversation(current, 'cut');
    expectComplete(await chat.turn('one'));
    side.frameFailures.push('drop_after_first_event');
    const resumed = await chat.turn('two');
    // Sequence numbers run on with none repeated or missing; one created, one completed.
    expectComplete(resumed);
    const done = resumed.events
      .filter((event) => event.type === 'response.output_item.done')
      .map((event) => (event.item as { type: string }).type);
    expect(done).toEqual(['reasoning', 'message']);
    expect(httpTurns(current)).toHaveLength(0);
    expect(side.turns.at(-1)?.previousResponseId).toBeUndefined();
    expect(side.connectionsOpened).toBe(2);
    // The next turn goes in full: the upstream's stored answer is not the one the client holds.
    expectComplete(await chat.turn('three'));
    expect(side.turns.at(-1)?.previousResponseId).toBeUndefined();
  });

  it('falls back to another account mid-session with the full input and none of the first account’s ciphertext', async () => {
    const { current, side } = await start();
    const chat = new Conversation(current, 'moving');
    for (const text of ['one', 'two']) expectComplete(await chat.turn(text));
    expect(side.turns.at(-1)?.previousResponseId).toMatch(/^resp_/);
    current.fake.account('alpha@example.com').stickyFailure = {
      kind: 'usage_limit',
      resetsInSeconds: 3600,
    };
    const moved = await chat.turn('three');
    expectComplete(moved);
    expect(moved.profile).toBe('beta');
    // On beta's own socket, in full: the whole conversation so far, as Codex sent it, but alpha's
    // reasoning blobs.
    expect(httpTurns(current)).toEqual([]);
    const onBeta = side.turns.at(-1)!;
    expect(onBeta.previousResponseId).toBeUndefined();
    const input = (onBeta.frame as { input: Array<{ encrypted_content?: string }> }).input;
    expect(input.filter((item) => 'role' in item)).toHaveLength(5);
    expect(input.some((item) => typeof item.encrypted_content === 'string')).toBe(false);
    const later = await chat.turn('four');
    expectComplete(later);
    expect(later.profile).toBe('beta');
    // Codex replays alpha's blobs on every turn, so every turn is rewritten the same way: the
    // next one still extends this one and goes incremental, not back to HTTP in full.
    expect(side.turns.at(-1)?.previousResponseId).toMatch(/^resp_/);
    expect(side.turns.at(-1)!.connection).toBe(onBeta.connection);
    expect(side.turns.at(-1)!.bytes).toBeLessThan(onBeta.bytes);
    expect(httpTurns(current)).toEqual([]);
    const beta = current.fake.account('beta@example.com');
    const blobs = later.events.flatMap((event) => {
      const item = event.item as { encrypted_content?: string } | undefined;
      return typeof item?.encrypted_content === 'string' ? [item.encrypted_content] : [];
    });
    for (const blob of blobs) expect(checkEncryptedContent(current.fake, beta, blob)).toBe('ok');
  });

  it('after a restart, knows which profile minted each blob of a session two profiles served: no refusal, each profile’s own reasoning byte-exact', async () => {
    const { current, side } = await start();
    const chat = new Conversation(current, 'shared');
    for (const text of ['one', 'two']) expectComplete(await chat.turn(text));
    const alpha = current.fake.account('alpha@example.com');
    const beta = current.fake.account('beta@example.com');
    // alpha's limit resets within the second, so the session can move back to it later.
    alpha.failures.push({ kind: 'usage_limit', resetsInSeconds: 1 });
    const moved = await chat.turn('three');
    expectComplete(moved);
    expect(moved.profile).toBe('beta');
    const blobsIn = (items: unknown[]) =>
      items.flatMap((item) => {
        const blob = (item as { encrypted_content?: unknown }).encrypted_content;
        return typeof blob === 'string' ? [blob] : [];
      });
    const history = blobsIn(chat.history);
    const alphas = history.filter(
      (blob) => checkEncryptedContent(current.fake, alpha, blob) === 'ok',
    );
    const betas = history.filter(
      (blob) => checkEncryptedContent(current.fake, beta, blob) === 'ok',
    );
    expect(alphas).toHaveLength(2);
    expect(betas).toHaveLength(1);
    // A new router over the same home, its journal kept: the session comes back on beta.
    await current.service.stop();
    // The journal names each blob by a short digest, in its request's record only: no blob (nor
    // its tail) is written, and no activity or decision line carries a digest.
    const journal = (await readFile(current.paths.activity, 'utf8')).trim().split('\n');
    for (const blob of history) expect(journal.join('\n')).not.toContain(blob.slice(-24));
    const digests = journal
      .map((line) => JSON.parse(line) as { type: string; minted?: string[] })
      .flatMap((line) => (line.type === 'request' ? (line.minted ?? []) : []));
    expect(digests).toHaveLength(3);
    for (const digest of digests) expect(digest).toMatch(/^[\w-]{16}$/);
    for (const line of journal.filter((line) => !line.includes('"type":"request"'))) {
      for (const digest of digests) expect(line).not.toContain(digest);
    }
    // Its clock runs ahead when the test says: alpha's limit ends without the test waiting.
    const time = offsetClock();
    const restarted = createTestLabService(current.fake, current.paths, {
      env: { CODEX_LAB_UPSTREAM_WEBSOCKET: 'on' },
      clock: time.clock,
    });
    onTestFinished(() => restarted.stop());
    const { url } = await restarted.start({ port: 0 });
    const again = new Conversation(
      { ...current, url, token: await restarted.routerToken() },
      'shared',
    );
    again.history.push(...chat.history);
    // Every attempt since `mark`, over either transport.
    const mark = () => ({ frames: side.turns.length, http: httpTurns(current).length });
    const since = (from: { frames: number; http: number }) => [
      ...side.turns.slice(from.frames).map((turn) => ({
        error: turn.error,
        input: (turn.frame as { input: unknown[] }).input,
      })),
      ...httpTurns(current)
        .slice(from.http)
        .map((request) => ({
          error: null,
          input: (JSON.parse(request.body) as { input: unknown[] }).input,
        })),
    ];
    // Back on beta: alpha's blobs removed up front, beta's own kept byte-exact, one attempt.
    let before = mark();
    const kept = await again.turn('four');
    expectComplete(kept);
    expect(kept.profile).toBe('beta');
    let attempts = since(before);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.error).toBeNull();
    expect(blobsIn(attempts[0]!.input)).toEqual(betas);
    // Moved to alpha: beta's blobs removed up front, alpha's own kept byte-exact, one attempt.
    // alpha's limit is over: it reset within a second of the refusal (whole seconds).
    time.advance(2_000);
    beta.stickyFailure = { kind: 'usage_limit', resetsInSeconds: 3600 };
    const ownBeta = blobsIn(again.history).filter(
      (blob) => checkEncryptedContent(current.fake, beta, blob) === 'ok',
    );
    expect(ownBeta).toHaveLength(2);
    before = mark();
    const back = await again.turn('five');
    expectComplete(back);
    expect(back.profile).toBe('alpha');
    attempts = since(before).filter((attempt) => attempt.error !== 'usage_limit');
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.error).toBeNull();
    const carried = blobsIn(attempts[0]!.input);
    expect(carried).toEqual(alphas);
    for (const blob of ownBeta) expect(carried).not.toContain(blob);
    // The digests are the router's own bookkeeping: no surface shows them.
    const shown = JSON.stringify([await restarted.getRequests({}), await restarted.getState()]);
    for (const digest of digests) expect(shown).not.toContain(digest);
    expect(shown).not.toContain('minted');
  });

  it('after a restart, sends a refused turn again once without the blobs it cannot attribute, and later turns once', async () => {
    const { current, side } = await start();
    const chat = new Conversation(current, 'restarted');
    for (const text of ['one', 'two']) expectComplete(await chat.turn(text));
    // A new router over the same home that knows nothing of the session (its journal is gone).
    await current.service.stop();
    await rm(current.paths.activity);
    const restarted = createTestLabService(current.fake, current.paths, {
      env: { CODEX_LAB_UPSTREAM_WEBSOCKET: 'on' },
    });
    onTestFinished(() => restarted.stop());
    const { url } = await restarted.start({ port: 0 });
    const again = new Conversation(
      { ...current, url, token: await restarted.routerToken() },
      'restarted',
    );
    again.history.push(...chat.history);
    current.fake.account('alpha@example.com').stickyFailure = {
      kind: 'usage_limit',
      resetsInSeconds: 3600,
    };
    const refusals = () =>
      side.turns.filter((turn) => turn.error === 'invalid_encrypted_content').length;
    const moved = await again.turn('three');
    expectComplete(moved);
    expect(moved.profile).toBe('beta');
    // beta refused alpha's blobs once, over the socket; the turn went again without them, and the
    // refused body was not sent a second time over HTTP.
    expect(refusals()).toBe(1);
    const retried = httpTurns(current);
    expect(retried.length).toBeLessThanOrEqual(1);
    for (const request of retried) {
      const { input } = JSON.parse(request.body) as { input: Array<Record<string, unknown>> };
      expect(input.some((item) => 'encrypted_content' in item)).toBe(false);
    }
    // Later turns go once each over the socket, alpha's blobs removed up front, beta's kept.
    const beta = current.fake.account('beta@example.com');
    for (const text of ['four', 'five']) {
      const frames = side.turns.length;
      const http = httpTurns(current).length;
      expectComplete(await again.turn(text));
      expect(side.turns.length - frames).toBe(1);
      expect(httpTurns(current).length).toBe(http);
      const turn = side.turns.at(-1)!;
      expect(turn.error).toBeNull();
      const input = (turn.frame as { input: Array<{ encrypted_content?: string }> }).input;
      const blobs = input.flatMap((item) =>
        typeof item.encrypted_content === 'string' ? [item.encrypted_content] : [],
      );
      for (const blob of blobs) expect(checkEncryptedContent(current.fake, beta, blob)).toBe('ok');
    }
    const kept = (side.turns.at(-1)!.frame as { input: Array<{ encrypted_content?: string }> })
      .input;
    // An incremental frame carries only the new items; beta's reasoning stays in the history.
    expect(
      side.turns.at(-1)!.previousResponseId !== undefined ||
        kept.some((item) => typeof item.encrypted_content === 'string'),
    ).toBe(true);
  });

  it('after a restart, sends the refused turn again over its socket without the blobs, so the next turn goes incremental from it', async () => {
    const { current, side } = await start();
    // With Codex's tools in the input, as a real session's history is mostly bytes already sent.
    const chat = new Conversation(current, 'retried', { tools: true });
    for (const text of ['one', 'two']) expectComplete(await chat.turn(text));
    // A new router over the same home that knows nothing of the session (its journal is gone).
    await current.service.stop();
    await rm(current.paths.activity);
    const restarted = createTestLabService(current.fake, current.paths, {
      env: { CODEX_LAB_UPSTREAM_WEBSOCKET: 'on' },
    });
    onTestFinished(() => restarted.stop());
    const { url } = await restarted.start({ port: 0 });
    const again = new Conversation(
      { ...current, url, token: await restarted.routerToken() },
      'retried',
    );
    again.history.push(...chat.history);
    current.fake.account('alpha@example.com').stickyFailure = {
      kind: 'usage_limit',
      resetsInSeconds: 3600,
    };
    const before = side.turns.length;
    const moved = await again.turn('three');
    expectComplete(moved);
    expect(moved.profile).toBe('beta');
    // Refused once on beta's socket, then sent again on the same socket, in full, without the
    // blobs beta cannot have minted: nothing went over HTTP.
    // (alpha's own frame, answered usage_limit_reached, moved the turn to beta.)
    const onBeta = () => side.turns.slice(before).filter((turn) => turn.error !== 'usage_limit');
    const [refused, retry, ...more] = onBeta();
    expect(more).toEqual([]);
    expect(refused!.error).toBe('invalid_encrypted_content');
    expect(retry!.error).toBeNull();
    expect(retry!.connection).toBe(refused!.connection);
    expect(retry!.previousResponseId).toBeUndefined();
    expect(retry!.bytes).toBeLessThan(refused!.bytes);
    const retried = (retry!.frame as { input: Array<Record<string, unknown>> }).input;
    expect(retried.some((item) => 'encrypted_content' in item)).toBe(false);
    expect(retried.filter((item) => item['role'] === 'user')).toHaveLength(3);
    expect(httpTurns(current)).toEqual([]);
    const completed = moved.events.find((event) => event.type === 'response.completed') as
      { response: { id: string } } | undefined;

    // The next turn extends the retried one: only its new item, after the retry's response.
    const later = await again.turn('four');
    expectComplete(later);
    expect(later.profile).toBe('beta');
    expect(onBeta()).toHaveLength(3);
    const next = side.turns.at(-1)!;
    expect(next.error).toBeNull();
    expect(next.connection).toBe(retry!.connection);
    expect(next.previousResponseId).toBe(completed!.response.id);
    expect((next.frame as { input: unknown[] }).input).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'four' }] },
    ]);
    expect(next.bytes).toBeLessThan(retry!.bytes / 2);
    expect(httpTurns(current)).toEqual([]);
  });

  it('after a restart, sends a turn refused over HTTP (too large for a frame) again over the socket once stripped fits, and the next turn incremental', async () => {
    // A frame fits a turn without reasoning blobs, not one with the two alpha minted.
    const { current, side } = await start({ maxMessageBytes: 2_000 });
    const chat = new Conversation(current, 'large');
    for (const text of ['one', 'two']) expectComplete(await chat.turn(text));
    await current.service.stop();
    await rm(current.paths.activity);
    const restarted = createTestLabService(current.fake, current.paths, {
      env: { CODEX_LAB_UPSTREAM_WEBSOCKET: 'on' },
    });
    onTestFinished(() => restarted.stop());
    const { url } = await restarted.start({ port: 0 });
    const again = new Conversation(
      { ...current, url, token: await restarted.routerToken() },
      'large',
    );
    again.history.push(...chat.history);
    current.fake.account('alpha@example.com').stickyFailure = {
      kind: 'usage_limit',
      resetsInSeconds: 3600,
    };
    const frames = side.turns.length;
    const http = httpTurns(current).length;
    const moved = await again.turn('three');
    expectComplete(moved);
    expect(moved.profile).toBe('beta');
    // beta's turn went over HTTP (too large for a frame), was refused there once, and went again
    // stripped over beta's socket: the refused body was not sent again.
    const overHttp = httpTurns(current).slice(http);
    // alpha's (answered usage_limit_reached) and beta's (refused), each with the blobs, once.
    expect(overHttp).toHaveLength(2);
    for (const request of overHttp) expect(request.body).toContain('encrypted_content');
    const onBeta = side.turns.slice(frames).filter((turn) => turn.error !== 'usage_limit');
    expect(onBeta).toHaveLength(1);
    expect(onBeta[0]!.error).toBeNull();
    expect(onBeta[0]!.previousResponseId).toBeUndefined();
    const retried = (onBeta[0]!.frame as { input: Array<Record<string, unknown>> }).input;
    expect(retried.some((item) => 'encrypted_content' in item)).toBe(false);
    const later = await again.turn('four');
    expectComplete(later);
    expect(httpTurns(current)).toHaveLength(http + 2);
    const next = side.turns.at(-1)!;
    expect(next.error).toBeNull();
    expect(next.connection).toBe(onBeta[0]!.connection);
    expect(next.previousResponseId).toMatch(/^resp_/);
    expect((next.frame as { input: unknown[] }).input).toHaveLength(1);
  });

  it('moves a turn answered 429 usage_limit_reached over WebSocket to the next profile, without re-sending it to the limited one', async () => {
    const { current, side } = await start();
    const chat = new Conversation(current, 'limited');
    expectComplete(await chat.turn('one'));
    const alpha = current.fake.account('alpha@example.com');
    alpha.failures.push({ kind: 'usage_limit', resetsInSeconds: 3600 });
    const moved = await chat.turn('two');
    expectComplete(moved);
    expect(moved.profile).toBe('beta');
    expect(side.turns.map((turn) => turn.error)).toEqual([null, 'usage_limit', null]);
    // alpha heard the turn once (the frame); beta got it whole on its own socket, without
    // alpha's reasoning ciphertext.
    const onAlpha = current.fake.requests.filter(
      (request) =>
        request.path === '/backend-api/codex/responses' &&
        request.headers['chatgpt-account-id'] === alpha.accountId,
    );
    expect(onAlpha).toHaveLength(2);
    expect(httpTurns(current)).toHaveLength(0);
    expect(side.turns.at(-1)?.previousResponseId).toBeUndefined();
    const input = (side.turns.at(-1)!.frame as { input: Array<{ encrypted_content?: string }> })
      .input;
    expect(input.some((item) => typeof item.encrypted_content === 'string')).toBe(false);
    const limited = (await current.service.getState()).profiles.find(
      (profile) => profile.name === 'alpha',
    );
    expect(limited?.status).toBe('limited');
  });

  it('refreshes the token once on a 401 frame and sends the turn over HTTP with the new one', async () => {
    const { current, side } = await start();
    const chat = new Conversation(current, 'expired');
    expectComplete(await chat.turn('one'));
    current.fake.account('alpha@example.com').failures.push({ kind: 'unauthorized' });
    const refreshesBefore = current.fake.requests.filter((request) =>
      request.path.startsWith('/oauth/token'),
    ).length;
    const turn = await chat.turn('two');
    expectComplete(turn);
    expect(turn.profile).toBe('alpha');
    expect(side.turns.at(-1)?.error).toBe('unauthorized');
    const refreshes = current.fake.requests.filter((request) =>
      request.path.startsWith('/oauth/token'),
    );
    expect(refreshes.length - refreshesBefore).toBe(1);
    const overHttp = httpTurns(current);
    expect(overHttp).toHaveLength(1);
    // The HTTP attempt carries the rotated token, not the one the socket was opened with.
    const handshake = current.fake.upgrades[0]!;
    expect(overHttp[0]!.headers['authorization']).toMatch(/^Bearer /);
    expect(overHttp[0]!.headers['authorization']).not.toBe(handshake.headers['authorization']);
  });

  it('gives Codex a 5xx answered over WebSocket as the HTTP path would, without sending the turn again, and keeps the socket', async () => {
    const { current, side } = await start();
    const chat = new Conversation(current, 'server-error');
    expectComplete(await chat.turn('one'));
    current.fake.account('alpha@example.com').failures.push({ kind: 'server_error', status: 502 });
    const failed = await chat.turn('two');
    // Codex hears the upstream's own status and retries it as it would natively: the router
    // sends nothing a second time (the HTTP resend doubled every failing request).
    expect(failed.status).toBe(502);
    expect(failed.profile).toBe('alpha');
    expect(side.turns.map((turn) => turn.error)).toEqual([null, 'server_error']);
    expect(httpTurns(current)).toHaveLength(0);
    // Codex's retry goes on the same connection (a new handshake per retry before), in full:
    // the failed turn stored nothing to build on.
    chat.history.pop();
    const retried = await chat.turn('two');
    expectComplete(retried);
    expect(current.fake.upgrades).toHaveLength(1);
    expect(side.turns.at(-1)?.previousResponseId).toBeUndefined();
    expect(httpTurns(current)).toHaveLength(0);
  });

  it('gives Codex a 400 answered over WebSocket as it is, once', async () => {
    const { current, side } = await start();
    const chat = new Conversation(current, 'bad-request');
    expectComplete(await chat.turn('one'));
    current.fake
      .account('alpha@example.com')
      .failures.push({ kind: 'bad_request', message: 'Your input exceeds the context window.' });
    const failed = await chat.turn('two');
    expect(failed.status).toBe(400);
    expect(side.turns.map((turn) => turn.error)).toEqual([null, 'bad_request']);
    expect(httpTurns(current)).toHaveLength(0);
  });

  it('keeps behaviour unchanged when the setting is off', async () => {
    const { current, side } = await start({ webSocket: 'off' });
    expectComplete(await new Conversation(current, 'off').turn('one'));
    expect(side.connectionsOpened).toBe(0);
    expect(httpTurns(current)).toHaveLength(1);
  });
});
