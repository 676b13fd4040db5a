import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { extractRouteContext } from '../../../core/router/route-context.ts';
import { codexTurnMetadata } from '../../helpers/codex-like-session.ts';

const capture = JSON.parse(
  readFileSync(new URL('./codex-0.169-request.json', import.meta.url), 'utf8'),
) as { headers: Record<string, string>; model: string; prompt_cache_key: string };

const metadata = (value: unknown): string => JSON.stringify(value);

describe('extractRouteContext', () => {
  it('reads the real Codex 0.169 request', () => {
    const body = { model: capture.model, prompt_cache_key: capture.prompt_cache_key, input: [] };
    expect(extractRouteContext(capture.headers, body)).toEqual({
      sessionId: '01a20c5e-72ea-73c1-b961-fbcd4ef19122',
      sessionSource: 'header',
      repo: '/home/dev/repo',
      model: 'gpt-5.1-codex',
      headerProfile: 'work',
      turnState: null,
    });
  });

  it('takes the model from the turn metadata when the body has none', () => {
    const context = extractRouteContext(capture.headers, undefined);
    expect(context.model).toBe('gpt-5.1-codex');
    expect(context.repo).toBe('/home/dev/repo');
  });

  it.each([
    ['session-id wins over thread-id', { 'thread-id': 't', 'session-id': 's' }, {}, 's', 'header'],
    ['session_id (older Codex)', { session_id: 'old' }, {}, 'old', 'header'],
    ['thread-id alone', { 'thread-id': 't' }, {}, 't', 'header'],
    [
      'a blank session-id gives way to thread-id',
      { 'session-id': ' ', 'thread-id': 't' },
      {},
      't',
      'header',
    ],
    [
      'a blank session_id gives way to thread-id',
      { session_id: '', 'thread-id': 't' },
      {},
      't',
      'header',
    ],
    ['names in any case', { 'Session-Id': 'S1' }, {}, 'S1', 'header'],
    ['array values take the first', { 'session-id': ['a', 'b'] }, {}, 'a', 'header'],
    ['window id before the colon', { 'x-codex-window-id': 'conv:3' }, {}, 'conv', 'window'],
    ['window id without a colon', { 'x-codex-window-id': 'conv' }, {}, 'conv', 'window'],
    ['header beats window', { 'x-codex-window-id': 'w:0', 'session-id': 's' }, {}, 's', 'header'],
    ['prompt_cache_key last', {}, { prompt_cache_key: 'pck' }, 'pck', 'prompt_cache_key'],
    [
      'window beats prompt_cache_key',
      { 'x-codex-window-id': 'w:1' },
      { prompt_cache_key: 'p' },
      'w',
      'window',
    ],
    [
      'empty header falls through',
      { 'session-id': '  ' },
      { prompt_cache_key: 'p' },
      'p',
      'prompt_cache_key',
    ],
    [
      'empty window id falls through',
      { 'x-codex-window-id': ':0' },
      { prompt_cache_key: 'p' },
      'p',
      'prompt_cache_key',
    ],
    ['absurdly long key ignored', { 'session-id': 'x'.repeat(1000) }, {}, null, null],
    ['nothing', {}, {}, null, null],
    ['non-string prompt_cache_key', {}, { prompt_cache_key: 42 }, null, null],
  ] as const)('session key: %s', (_name, headers, body, id, source) => {
    const context = extractRouteContext(headers as Record<string, string | string[]>, body);
    expect(context.sessionId).toBe(id);
    expect(context.sessionSource).toBe(source);
    // Node's lower-case names read by lookup give the same answer as the walk over every name.
    if (Object.keys(headers).every((name) => name === name.toLowerCase())) {
      expect(
        extractRouteContext(headers as Record<string, string | string[]>, body, 'lower-case'),
      ).toEqual(context);
    }
  });

  it('reads Node-shaped headers by lookup exactly as by walking them (Codex 0.171, every field)', () => {
    const headers: Record<string, string> = {
      ...Object.fromEntries(
        Object.entries(capture.headers).map(([name, value]) => [name.toLowerCase(), value]),
      ),
      'x-codex-turn-state': 'opaque-state',
      'x-codex-lab-profile': ' work ',
      'x-codex-turn-metadata': codexTurnMetadata({
        session: 's-1',
        turn: 3,
        repo: '/home/dev/app',
      }),
    };
    const walked = extractRouteContext(headers, null);
    expect(walked).toMatchObject({
      repo: '/home/dev/app',
      headerProfile: 'work',
      turnState: 'opaque-state',
    });
    expect(extractRouteContext(headers, null, 'lower-case')).toEqual(walked);
  });

  it.each([
    ['garbage JSON', '{not json', null],
    ['a JSON string', '"hello"', null],
    ['an array', '[1,2]', null],
    ['workspaces not an object', metadata({ workspaces: ['/a'] }), null],
    ['empty workspaces', metadata({ workspaces: {} }), null],
    ['first workspace', metadata({ workspaces: { '/a': {}, '/b': {} } }), '/a'],
  ])('repo from turn metadata: %s', (_name, header, repo) => {
    const context = extractRouteContext({ 'x-codex-turn-metadata': header }, null);
    expect(context.repo).toBe(repo);
  });

  it('gives each request its own context: a later read leaves an earlier one as it was', () => {
    const read = (repo: string, model: string) =>
      extractRouteContext(
        {
          'session-id': `s-${repo}`,
          'x-codex-turn-metadata': metadata({ workspaces: { [repo]: {} }, model }),
        },
        null,
        'lower-case',
      );
    const first = read('/home/dev/one', 'gpt-5.1-codex');
    const second = read('/home/dev/two', 'gpt-5.2');
    expect(first).toMatchObject({ sessionId: 's-/home/dev/one', repo: '/home/dev/one' });
    expect(first.model).toBe('gpt-5.1-codex');
    expect(second).toMatchObject({ repo: '/home/dev/two', model: 'gpt-5.2' });
  });

  it('prefers the body model over the metadata model', () => {
    const context = extractRouteContext(
      { 'x-codex-turn-metadata': metadata({ model: 'meta-model' }) },
      { model: 'body-model' },
    );
    expect(context.model).toBe('body-model');
  });

  it.each([null, undefined, 'text', 42, [1, 2], { model: 7 }, { model: '' }])(
    'tolerates a body of %j',
    (body) => {
      const context = extractRouteContext({}, body);
      expect(context.model).toBeNull();
      expect(context.sessionId).toBeNull();
    },
  );

  it('reads the profile header and turn state, trimmed', () => {
    const context = extractRouteContext(
      { 'X-Codex-Lab-Profile': ' work ', 'x-codex-turn-state': 'opaque-state' },
      {},
    );
    expect(context.headerProfile).toBe('work');
    expect(context.turnState).toBe('opaque-state');
  });

  it('treats an empty profile header as no pin', () => {
    expect(extractRouteContext({ 'x-codex-lab-profile': '' }, {}).headerProfile).toBeNull();
  });
});

/** What `JSON.parse` reads from turn metadata: the rule the scanner must match exactly. */
function parsedFacts(text: string): { repo: string | null; model: string | null } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { repo: null, model: null };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { repo: null, model: null };
  }
  const record = parsed as Record<string, unknown>;
  let repo: string | null = null;
  const workspaces = record['workspaces'];
  if (typeof workspaces === 'object' && workspaces !== null && !Array.isArray(workspaces)) {
    for (const path in workspaces) {
      if (path !== '') {
        repo = path;
        break;
      }
    }
  }
  const model = record['model'];
  return { repo, model: typeof model === 'string' && model !== '' ? model : null };
}

describe('turn metadata, read without JSON.parse', () => {
  /** A small deterministic generator, so a failure reproduces. */
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31;
    };
  }
  const next = random(11);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!;
  const strings = [
    '',
    'gpt-6.2-sol',
    '/home/dev/repo',
    'C:\\Users\\dev',
    'quote " inside',
    'é模\n\t',
    '\\"',
    '0',
    '12',
    // The two keys read, as nested keys and inside values: a reader that took a nested one for
    // the top-level member, or a string's contents for a key, would disagree with JSON.parse.
    'workspaces',
    'model',
    ',"model":"x"',
    'workspaces":{',
  ];
  function value(depth: number): unknown {
    const roll = next();
    if (roll < 0.3 || depth > 2)
      return pick<unknown>([...strings, 0, -1.5e3, true, false, null, 42]);
    if (roll < 0.6) return Array.from({ length: Math.floor(next() * 3) }, () => value(depth + 1));
    return Object.fromEntries(
      Array.from({ length: Math.floor(next() * 4) }, () => [pick(strings), value(depth + 1)]),
    );
  }

  it('reads the same model and repository as JSON.parse, over 3 000 generated headers', () => {
    for (let round = 0; round < 3000; round += 1) {
      const object: Record<string, unknown> = { session_id: 's', turn_id: `t${round}` };
      const keys = ['model', 'workspaces', 'sandbox', 'window_number', 'nested'];
      for (let index = 0; index < 4; index += 1) {
        const key = pick(keys);
        object[key] =
          key === 'workspaces' && next() < 0.8
            ? Object.fromEntries(
                Array.from({ length: Math.floor(next() * 3) }, () => [
                  pick(strings),
                  { has_changes: next() < 0.5 },
                ]),
              )
            : key === 'model' && next() < 0.7
              ? pick(strings)
              : value(0);
      }
      // Codex writes `model` last, or followed by `reasoning_effort`: the layouts the reader
      // takes without JSON.parse.
      if (next() < 0.6 && 'model' in object) {
        const model = object['model'];
        delete object['model'];
        object['model'] = model;
        if (next() < 0.5) object['reasoning_effort'] = pick(['low', 'high', '', 'x\\"y']);
      }
      let text = next() < 0.2 ? JSON.stringify(object, null, 2) : JSON.stringify(object);
      // Duplicate keys: JSON.parse keeps the last value; so must the scanner.
      if (next() < 0.2) text = `{"model":"first","workspaces":{"/first":{}},${text.slice(1)}`;
      if (next() < 0.1) text = text.slice(0, Math.floor(next() * text.length));
      const context = extractRouteContext({ 'x-codex-turn-metadata': text }, null);
      expect({ repo: context.repo, model: context.model }, text).toEqual(parsedFacts(text));
    }
  });

  /** Turn metadata as the real Codex sent it through the router (e2e runs, 2026-11-30). */
  const realMetadata = {
    'Codex 0.169 in a repository':
      '{"installation_id":"8be81149-e363-44d7-82f7-dda815615c95","session_id":"01a22cd5-8edd-7e70-b1ff-441d3f5165e3","thread_id":"01a22cd5-8edd-7e70-b1ff-441d3f5165e3","agent_name":"/root","turn_id":"01a22cd5-8f07-7df1-be95-9324a60fbc71","window_id":"01a22cd5-8edd-7e70-b1ff-441d3f5165e3:0","window_number":0,"context_window_id":"01a22cd5-8ee2-7b83-9176-f25decd6d326","request_kind":"turn","history_initialization":"new","root_turn_id":"01a22cd5-8f07-7df1-be95-9324a60fbc71","thread_source":"user","turn_trigger":"exec","sandbox":"seccomp","sandbox_mode":"read-only","auto_review_enabled":false,"node_repl_auto_review_required":true,"node_repl_disabled":false,"workspaces":{"/home/dev/repo":{"latest_git_commit_hash":"c627786c10a51998509344aacf460159e2f31a00","has_changes":false}},"turn_started_at_unix_ms":1796048523018,"analytics_enabled":false,"model":"gpt-6.1-sol","reasoning_effort":"low"}',
    'Codex 0.171 in a repository':
      '{"installation_id":"28bd4e5d-a56d-4ea3-8474-f69597ad0e74","session_id":"01a22cd5-95b7-7a93-bf10-0d534aa4d7ca","thread_id":"01a22cd5-95b7-7a93-bf10-0d534aa4d7ca","agent_name":"/root","turn_id":"01a22cd5-95d7-71c1-9906-72a08bdda65b","window_id":"01a22cd5-95b7-7a93-bf10-0d534aa4d7ca:0","window_number":0,"context_window_id":"01a22cd5-95bb-7522-b3ab-b67c3612a2c7","request_kind":"turn","history_initialization":"new","root_turn_id":"01a22cd5-95d7-71c1-9906-72a08bdda65b","thread_source":"user","turn_trigger":"exec","sandbox":"seccomp","sandbox_mode":"read-only","auto_review_enabled":false,"node_repl_auto_review_required":true,"node_repl_disabled":false,"workspaces":{"/home/dev/repo":{"latest_git_commit_hash":"1277c27ab125f57ba3ed48d310e3dc7965181ab4","has_changes":false}},"turn_started_at_unix_ms":1796048524763,"analytics_enabled":false,"model":"gpt-6.2-sol","reasoning_effort":"low"}',
    'Codex 0.171 outside a repository':
      '{"installation_id":"6a064ef3-8a69-4764-a8d9-30787bfc6558","session_id":"01a22cd4-f00b-7f22-baba-dce443ad63a7","thread_id":"01a22cd4-f00b-7f22-baba-dce443ad63a7","agent_name":"/root","turn_id":"01a22cd4-f02a-7772-82f3-236bcb264502","window_id":"01a22cd4-f00b-7f22-baba-dce443ad63a7:0","window_number":0,"context_window_id":"01a22cd4-f012-70c0-af82-ef78a67ca8ec","request_kind":"turn","history_initialization":"new","root_turn_id":"01a22cd4-f02a-7772-82f3-236bcb264502","thread_source":"user","turn_trigger":"exec","sandbox":"seccomp","sandbox_mode":"read-only","auto_review_enabled":false,"node_repl_auto_review_required":true,"node_repl_disabled":false,"turn_started_at_unix_ms":1796048482349,"analytics_enabled":false,"model":"gpt-6.2-sol","reasoning_effort":"low"}',
    'the Codex 0.169 capture': capture.headers['x-codex-turn-metadata']!,
    // What the benches and the session helper send in its place.
    "the helper's Codex-like metadata": codexTurnMetadata({
      session: '019a0c5e-72ea-73c1-b961-fbcd4ef19122',
      turn: 3,
    }),
  };

  it.each(Object.entries(realMetadata))('reads %s without JSON.parse', (_name, text) => {
    const expected = parsedFacts(text);
    expect(expected.model).toMatch(/^gpt-/);
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const context = extractRouteContext({ 'x-codex-turn-metadata': text }, null);
      expect({ repo: context.repo, model: context.model }).toEqual(expected);
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });

  it.each([
    ['the real capture', capture.headers['x-codex-turn-metadata']!],
    ['trailing text', '{"model":"m"} x'],
    ['a bad literal', '{"model":"m","x":tru}'],
    ['a bad escape', '{"model":"m\\q"}'],
    ['an escaped key', '{"mod\\u0065l":"m"}'],
    ['numeric workspace keys first', '{"workspaces":{"/a":{},"7":{}}}'],
    ['a model that is not a string', '{"model":"m","model":7}'],
    ['spaces everywhere', ' { "model" : "m" , "workspaces" : { "" : 1 , "/b" : [ ] } } '],
    ['a nested model last', '{"model":"top","workspaces":{"/a":{"model":"inner"}}}'],
    ['a nested model only', '{"workspaces":{"/a":{"model":"inner"}}}'],
    ['model not last', '{"model":"m","workspaces":{"/a":{}},"x":1}'],
    [
      'workspaces after a nested object',
      '{"n":{"workspaces":{"/x":{}}},"workspaces":{"/a":{}},"model":"m"}',
    ],
    ['workspaces twice', '{"workspaces":{"/a":{}},"workspaces":{"/b":{}},"model":"m"}'],
    ['workspaces not an object', '{"workspaces":["/a"],"model":"m"}'],
    ['an escaped model', '{"workspaces":{"C:\\\\repo":{}},"model":"a\\"b"}'],
    [
      'a nested workspaces after the top-level one',
      '{"workspaces":{"/a":{}},"n":{"workspaces":{"/x":{}}},"model":"m"}',
    ],
    ['an escape before the members read', '{"a":"C:\\\\x","workspaces":{"/a":{}},"model":"m"}'],
    ['an escaped workspaces key only', '{"work\\u0073paces":{"/a":{}},"model":"m"}'],
    ['members after workspaces', '{"workspaces":{"/a":{}},"t":[1,{"b":"}"}],"u":null,"model":"m"}'],
    // After a first object that is the top-level `workspaces` (the layout Codex writes):
    ['model twice after it', '{"a":1,"workspaces":{"/a":{}},"model":"m","model":"n"}'],
    ['a model after it that is not a string', '{"a":1,"workspaces":{"/a":{}},"model":7}'],
    ['a nested model after it', '{"a":1,"workspaces":{"/a":{}},"x":{"model":"in"},"model":"m"}'],
    [
      'a nested workspaces after model',
      '{"a":1,"workspaces":{"/a":{}},"model":"m","n":{"workspaces":{}}}',
    ],
    ['a brace inside a string before it', '{"a":"{","workspaces":{"/a":{}},"model":"m"}'],
    ['a model only before it', '{"model":"early","workspaces":{"/a":{}},"x":1}'],
    ['an empty model after it', '{"a":1,"workspaces":{"/a":{}},"model":""}'],
    ['an empty workspaces object', '{"a":1,"workspaces":{},"model":"m"}'],
    ['a space after it', '{"a":1,"workspaces":{"/a":{}}, "model":"m"}'],
  ])('matches JSON.parse on %s', (_name, text) => {
    const context = extractRouteContext({ 'x-codex-turn-metadata': text }, null);
    expect({ repo: context.repo, model: context.model }).toEqual(parsedFacts(text));
  });
});
