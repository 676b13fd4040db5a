/**
 * A long Codex-like session as data: a first request carrying Codex's tools, then turns that each
 * add a user message and a tool output, with the answer's items carried into the next request as
 * Codex does. Shared by the upload-bytes test and `bench/upload-bytes.mjs`, so the figure the test
 * asserts and the figure the benchmark reports come from the same session.
 */

/** The request fields besides `input`, as Codex sends them for `session`. */
export function codexSessionFields(session: string): Record<string, unknown> {
  return {
    model: 'gpt-6.2-sol',
    stream: true,
    tool_choice: 'auto',
    parallel_tool_calls: false,
    reasoning: { effort: 'medium', context: 'all_turns' },
    store: false,
    include: ['reasoning.encrypted_content'],
    prompt_cache_key: session,
    text: { verbosity: 'low' },
    client_metadata: { session_id: session },
  };
}

/**
 * `x-codex-turn-metadata` in the layout the real Codex 0.171 sends from a git repository (read off
 * the router in the end-to-end suite): compact JSON, 22 keys, the workspace with its last commit,
 * `model` followed by `reasoning_effort`. `turn` changes the turn id and start time, as each
 * request of a real session does.
 */
export function codexTurnMetadata(options: {
  session: string;
  turn: number;
  repo?: string;
  model?: string;
}): string {
  const { session, turn } = options;
  const turnId = `${session.slice(0, 24)}${(turn + 1).toString(16).padStart(12, '0')}`;
  return JSON.stringify({
    installation_id: 'faafedb4-b152-4245-8ebe-afbf8ea471c7',
    session_id: session,
    thread_id: session,
    agent_name: '/root',
    turn_id: turnId,
    window_id: `${session}:0`,
    window_number: 0,
    context_window_id: '019a0c5e-72f4-7472-bc14-d291904496bd',
    request_kind: 'turn',
    history_initialization: turn === 0 ? 'new' : 'resumed',
    root_turn_id: turnId,
    thread_source: 'user',
    turn_trigger: 'exec',
    sandbox: 'seccomp',
    sandbox_mode: 'workspace-write',
    auto_review_enabled: false,
    node_repl_auto_review_required: true,
    node_repl_disabled: false,
    workspaces: {
      [options.repo ?? '/home/dev/repo']: {
        latest_git_commit_hash: '1277c27ab125f57ba3ed48d310e3dc7965181ab4',
        has_changes: turn > 0,
      },
    },
    turn_started_at_unix_ms: 1_796_048_524_763 + turn * 1000,
    analytics_enabled: false,
    model: options.model ?? 'gpt-6.2-sol',
    reasoning_effort: 'medium',
  });
}

/**
 * The headers Codex 0.171 sends with a turn (`codex exec`, in a git repository; the order and
 * names read off the router in the end-to-end suite, docs/codex-0.171-notes.md), for the router
 * token `token`.
 */
export function codexRequestHeaders(options: {
  session: string;
  turn: number;
  token: string;
  repo?: string;
}): Record<string, string> {
  const { session, turn, token } = options;
  return {
    'x-codex-beta-features': 'remote_compaction_v2',
    'x-codex-window-id': `${session}:0`,
    'x-codex-turn-metadata': codexTurnMetadata({
      session,
      turn,
      ...(options.repo === undefined ? {} : { repo: options.repo }),
    }),
    'x-openai-internal-codex-responses-lite': 'true',
    'x-client-request-id': session,
    'session-id': session,
    'thread-id': session,
    accept: 'text/event-stream',
    'content-type': 'application/json',
    authorization: `Bearer ${token}`,
    originator: 'codex_exec',
    'user-agent': 'codex_exec/0.171.0 (Debian 13.0.0; x86_64) dumb (codex_exec; 0.171.0)',
    'accept-encoding': 'zstd,gzip',
  };
}

/**
 * Deterministic text with the entropy of prose and code (a 600-word vocabulary), so compression
 * ratios are not flattered by repetition: a real Codex turn compresses about 2.9x with zstd -3.
 * Each source starts from `seed`, so two sources with one seed write the same session.
 */
export function createProse(seed = 12_345): (length: number) => string {
  let state = seed;
  const next = (): number => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const vocabulary = Array.from({ length: 600 }, () =>
    Array.from({ length: 2 + Math.floor(next() * 8) }, () =>
      String.fromCharCode(97 + Math.floor(next() * 26)),
    ).join(''),
  );
  const punctuation = [' ', ' ', ' ', ' ', ', ', '. ', '(', ') ', ': ', '_', '.', '/', ' = ', '\n'];
  return (length) => {
    let out = '';
    while (out.length < length) {
      out += vocabulary[Math.floor(next() * vocabulary.length)];
      out += punctuation[Math.floor(next() * punctuation.length)];
    }
    return out.slice(0, length);
  };
}

/**
 * Codex's first input item: the tools, as `additional_tools` (~55 KB in a real 0.171 turn with the
 * defaults). The sizes can be set for lighter bodies; the text comes from `prose` in one order.
 */
export function codexToolsItem(
  prose: (length: number) => string,
  sizes: { tools?: number; description?: number; fields?: number; fieldDescription?: number } = {},
): Record<string, unknown> {
  const { tools: count = 40, description = 500, fields = 8, fieldDescription = 120 } = sizes;
  const tools = Array.from({ length: count }, (_, index) => ({
    type: 'function',
    name: `tool_${index}`,
    description: prose(description),
    parameters: {
      type: 'object',
      properties: Object.fromEntries(
        Array.from({ length: fields }, (_, field) => [
          `field_${field}`,
          { type: 'string', description: prose(fieldDescription) },
        ]),
      ),
      required: ['field_0'],
    },
  }));
  return { type: 'additional_tools', role: 'developer', tools };
}

/** The part of the fake ChatGPT a sender reads: its request log (turns over either transport). */
interface RequestLog {
  requests: ReadonlyArray<{ path: string; bytes: number }>;
}

/**
 * A `send` for `playCodexLikeSession` that posts each turn to a router at `url` with Codex's
 * headers and measures what `fake` received for it (the fake records each turn over either
 * transport: an HTTP body or a WebSocket frame, handshakes at 0 bytes).
 */
export function routerTurnSender(options: {
  url: string;
  token: string;
  id: string;
  fake: RequestLog;
}): (body: string) => Promise<{ sse: string; received: number }> {
  const { url, token, id, fake } = options;
  let turn = 0;
  return async (body) => {
    const requestsBefore = fake.requests.length;
    const response = await fetch(`${url}/backend-api/codex/responses`, {
      method: 'POST',
      // Codex's headers, the Responses Lite marker among them (its tools ride in the input).
      headers: codexRequestHeaders({ session: id, turn: turn++, token }),
      body,
    });
    const sse = await response.text();
    if (response.status !== 200) throw new Error(`a turn answered ${response.status}: ${sse}`);
    const received = fake.requests
      .slice(requestsBefore)
      .filter((recorded) => recorded.path === '/backend-api/codex/responses')
      .reduce((sum, recorded) => sum + recorded.bytes, 0);
    return { sse, received };
  };
}

/** What one turn cost on the wire. */
export interface SessionTurnBytes {
  /** Bytes the upstream received for this turn, as `send` measured them. */
  received: number;
  /**
   * What native Codex over Responses WebSocket sends for this turn: a prewarm and the first
   * request whole, then a `response.create` frame with only the items added since the previous
   * request and its answer (the answer's own items are on the server already), with
   * `previous_response_id`.
   */
  native: number;
  /** The whole HTTP body Codex sends for this turn (what a plain HTTP path uploads). */
  plain: number;
}

/**
 * Plays `turns` turns of session `id`: builds each request body, hands it to `send` (which posts
 * it and answers the SSE text and the bytes the upstream received), and carries the answer's
 * `response.output_item.done` items into the next turn's input, as Codex does.
 */
export async function* playCodexLikeSession(options: {
  id: string;
  turns: number;
  send: (body: string) => Promise<{ sse: string; received: number }>;
  seed?: number;
}): AsyncGenerator<SessionTurnBytes> {
  const prose = createProse(options.seed);
  const fields = codexSessionFields(options.id);
  const history: Array<Record<string, unknown>> = [codexToolsItem(prose)];
  let previousLength = 0;
  for (let turn = 0; turn < options.turns; turn += 1) {
    history.push(
      {
        type: 'message',
        role: 'user',
        content: [{ type: 'input_text', text: `Turn ${turn}: please update the handler.` }],
      },
      { type: 'function_call_output', call_id: `call_${turn}`, output: prose(1200) },
    );
    const body = JSON.stringify({ ...fields, input: history });
    const { sse, received } = await options.send(body);
    // Native Codex's frames, as measured against the fake (docs/codex-0.171-notes.md, section 6):
    // their client_metadata adds the Lite marker and the request's start time, and a session's
    // socket opens with a prewarm (no input, `generate: false`) whose response the first turn
    // names as its previous one, with the whole input.
    const frameFields = {
      ...fields,
      client_metadata: {
        ...(fields['client_metadata'] as Record<string, unknown>),
        ws_request_header_x_openai_internal_codex_responses_lite: 'true',
        'x-codex-ws-stream-request-start-ms': String(1_796_048_524_763 + turn * 1000),
      },
    };
    const previousResponseId = 'resp_0123456789abcdef0123456789abcdef';
    const native =
      turn === 0
        ? Buffer.byteLength(
            JSON.stringify({ type: 'response.create', ...frameFields, generate: false, input: [] }),
          ) +
          Buffer.byteLength(
            JSON.stringify({
              type: 'response.create',
              ...frameFields,
              previous_response_id: previousResponseId,
              input: history,
            }),
          )
        : Buffer.byteLength(
            JSON.stringify({
              type: 'response.create',
              ...frameFields,
              previous_response_id: previousResponseId,
              input: history
                .slice(previousLength)
                .filter((item) => item.type !== 'reasoning' && item.role !== 'assistant'),
            }),
          );
    for (const line of sse.split('\n')) {
      if (!line.startsWith('data: ')) continue;
      const event = JSON.parse(line.slice(6)) as { type?: string; item?: Record<string, unknown> };
      if (event.type === 'response.output_item.done' && event.item) history.push(event.item);
    }
    previousLength = history.length;
    yield { received, native, plain: Buffer.byteLength(body) };
  }
}
