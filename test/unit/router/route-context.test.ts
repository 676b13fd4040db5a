import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { extractRouteContext } from '../../../core/router/route-context.ts';

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
