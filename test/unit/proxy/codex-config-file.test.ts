/**
 * The config.toml editor behind `codex-lab codex-config --write` / `--remove`, over files shaped
 * like real ones: Codex appends `[projects."…"]` trust tables, users keep their own provider,
 * comments, multi-line strings and arrays whose lines start with `[`, and Windows line breaks.
 */
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { codexConfigBlock, retiredCodexConfigBlock } from '../../../core/proxy/codex-config.ts';
import {
  annotateCodexConfigBlock,
  keptPrefix,
  removeCodexConfig,
  writeCodexConfig,
  writtenMarker,
  type ConfigEditResult,
} from '../../../core/proxy/codex-config-file.ts';

const block = codexConfigBlock({ routerUrl: 'http://127.0.0.1:1456' });
const blockData = parse(block);

function text(result: ConfigEditResult): string {
  if (!result.ok) throw new Error(`refused: ${result.message}`);
  return result.text;
}

/** What Codex itself leaves: settings, then the trust tables it appends. */
const trusted = [
  '# my settings',
  'model = "gpt-5.5"',
  'approval_policy = "on-request"',
  '',
  '[projects."/home/x/repo"]',
  'trust_level = "trusted"',
  '',
].join('\n');

describe('writeCodexConfig', () => {
  it('puts the top-level keys above the first table of a file that ends in a trust table, so Codex reads them', () => {
    const written = text(writeCodexConfig(trusted, block));
    expect(written).toBe(
      [
        '# my settings',
        'model = "gpt-5.5"',
        'approval_policy = "on-request"',
        writtenMarker,
        'model_provider = "codex-lab"',
        'chatgpt_base_url = "http://127.0.0.1:1456/backend-api/"',
        '',
        '[projects."/home/x/repo"]',
        'trust_level = "trusted"',
        '',
        ...block.slice(block.indexOf('[model_providers.codex-lab]')).trimEnd().split('\n'),
        '',
      ].join('\n'),
    );
    const data = parse(written);
    expect(data['model_provider']).toBe('codex-lab');
    expect(data['chatgpt_base_url']).toBe('http://127.0.0.1:1456/backend-api/');
    expect(data['projects']).toEqual({ '/home/x/repo': { trust_level: 'trusted' } });
    expect((data['model_providers'] as Record<string, unknown>)['codex-lab']).toEqual(
      (blockData['model_providers'] as Record<string, unknown>)['codex-lab'],
    );
  });

  it('is idempotent, and --remove gives back the file it started from', () => {
    const once = text(writeCodexConfig(trusted, block));
    const twice = writeCodexConfig(once, block);
    expect(twice).toMatchObject({ ok: true, changed: false, text: once });
    expect(text(removeCodexConfig(once, block))).toBe(trusted);
    expect(removeCodexConfig(trusted, block)).toMatchObject({ ok: true, changed: false });
  });

  it("sets the user's own model_provider aside as a marked comment, keeps their provider table, and --remove puts it back", () => {
    const own = [
      'model_provider = "myproxy"',
      'model = "o3"',
      '',
      '[model_providers.myproxy]',
      'name = "My proxy"',
      'base_url = "http://localhost:9000/v1"',
      '',
      '[projects."/home/x/repo"]',
      'trust_level = "trusted"',
      '',
    ].join('\n');
    const result = writeCodexConfig(own, block);
    expect(result).toMatchObject({ ok: true, changed: true, kept: ['model_provider'] });
    const written = text(result);
    expect(written.split('\n').slice(0, 5)).toEqual([
      `${keptPrefix}model_provider = "myproxy"`,
      'model = "o3"',
      writtenMarker,
      'model_provider = "codex-lab"',
      'chatgpt_base_url = "http://127.0.0.1:1456/backend-api/"',
    ]);
    const data = parse(written);
    expect(data['model_provider']).toBe('codex-lab');
    expect(data['model_providers']).toMatchObject({
      myproxy: { name: 'My proxy', base_url: 'http://localhost:9000/v1' },
      'codex-lab': { name: 'Codex Lab' },
    });
    expect(text(writeCodexConfig(written, block))).toBe(written);
    const removed = removeCodexConfig(written, block);
    expect(removed).toMatchObject({ ok: true, kept: ['model_provider'] });
    expect(text(removed)).toBe(own);
  });

  it('puts back a set-aside model_provider that sat right under the last setting, where the group goes', () => {
    const own =
      'model = "o3"\nmodel_provider = "myproxy"\n\n[projects."/r"]\ntrust_level = "trusted"\n';
    const written = text(writeCodexConfig(own, block));
    expect(written.split('\n').slice(0, 5)).toEqual([
      'model = "o3"',
      writtenMarker,
      'model_provider = "codex-lab"',
      'chatgpt_base_url = "http://127.0.0.1:1456/backend-api/"',
      `${keptPrefix}model_provider = "myproxy"`,
    ]);
    expect(text(writeCodexConfig(written, block))).toBe(written);
    expect(text(removeCodexConfig(written, block))).toBe(own);
  });

  it('replaces an older Codex Lab table in place (a new port), leaving the tables around it', () => {
    const old = codexConfigBlock({ routerUrl: 'http://127.0.0.1:4567' });
    const earlier = text(writeCodexConfig(trusted, old));
    // A table added after ours later (by hand, or by Codex): a rewrite keeps it there.
    const withTui = `${earlier}\n[tui]\nnotifications = true\n`;
    const rewritten = text(writeCodexConfig(withTui, block));
    expect(rewritten).not.toContain('4567');
    expect(rewritten.trimEnd().endsWith('[tui]\nnotifications = true')).toBe(true);
    expect(rewritten.match(/\[model_providers\.codex-lab\]/g)).toHaveLength(1);
    expect(rewritten.match(/^model_provider = /gm)).toHaveLength(1);
    expect(parse(rewritten)['tui']).toEqual({ notifications: true });
    // --remove takes the table from the middle without leaving two blank lines.
    const removed = text(removeCodexConfig(rewritten, block));
    expect(removed).toBe(`${trusted}\n[tui]\nnotifications = true\n`);
  });

  it('writes a whole file when there is none, and --remove empties it again', () => {
    const written = text(writeCodexConfig('', block));
    expect(written.startsWith(`${writtenMarker}\nmodel_provider = "codex-lab"\n`)).toBe(true);
    expect(parse(written)).toEqual({ ...blockData });
    expect(text(removeCodexConfig(written, block))).toBe('');
  });

  it('is not fooled by comments, multi-line strings and arrays whose lines start with [ or hold our keys', () => {
    const tricky = [
      '# model_provider = "not this one"',
      'developer_instructions = """',
      '[model_providers.codex-lab]',
      'model_provider = "inside a string"',
      '"""',
      "notify = ['''",
      "[not.a.table]''', \"x\"]",
      'sandbox_writable = [',
      '  "/tmp", # [a comment]',
      '  ["nested", "[x]"],',
      ']',
      'quote = "a # \\" [b]"',
      '',
      '[projects."/home/x/[weird] repo"]',
      'trust_level = "trusted"',
      '[mcp_servers.docs]',
      "command = 'npx'",
      'env = { TOKEN_NAME = "x]" }',
      '',
    ].join('\n');
    const written = text(writeCodexConfig(tricky, block));
    const data = parse(written);
    const original = parse(tricky);
    expect(data['developer_instructions']).toBe(original['developer_instructions']);
    expect(data['notify']).toEqual(original['notify']);
    expect(data['sandbox_writable']).toEqual(original['sandbox_writable']);
    expect(data['projects']).toEqual(original['projects']);
    expect(data['mcp_servers']).toEqual(original['mcp_servers']);
    expect(data['model_provider']).toBe('codex-lab');
    // The group goes after the last top-level statement (the one-line string), before [projects].
    const lines = written.split('\n');
    expect(lines.indexOf(writtenMarker)).toBe(lines.indexOf('quote = "a # \\" [b]"') + 1);
    expect(written).toContain('# model_provider = "not this one"\n');
    expect(text(writeCodexConfig(written, block))).toBe(written);
    expect(text(removeCodexConfig(written, block))).toBe(tricky);
  });

  it('is idempotent and undone exactly at the top of a file with no settings of its own, whatever starts it', () => {
    for (const start of [
      '\n\n[a]\nb = 1\n',
      '# header\n[a]\nb = 1\n',
      '[[hooks]]\nname = "a"\n[[hooks]]\nname = "b"\n',
    ]) {
      const written = text(writeCodexConfig(start, block));
      expect(written.startsWith(`${writtenMarker}\n`)).toBe(true);
      expect(parse(written)['model_provider']).toBe('codex-lab');
      expect(text(writeCodexConfig(written, block))).toBe(written);
      expect(text(removeCodexConfig(written, block))).toBe(start);
    }
  });

  it('leaves a file with no last line break without one, and --remove gives back its exact bytes', () => {
    for (const bare of [
      '[projects."/x"] # trusted by Codex\ntrust_level = "trusted"',
      'model = "o3"\n[features]\nenabled = false',
      'model = "o3"\nenabled = false',
      '# only a comment',
    ]) {
      const written = text(writeCodexConfig(bare, block));
      expect(written.endsWith('\n')).toBe(false);
      expect(written).toMatch(/\n\n\[model_providers\.codex-lab\]\n/);
      expect(parse(written)['model_provider']).toBe('codex-lab');
      expect(text(writeCodexConfig(written, block))).toBe(written);
      expect(text(removeCodexConfig(written, block))).toBe(bare);
    }
  });

  it('keeps CRLF line breaks, on its own lines too', () => {
    const crlf = trusted.replaceAll('\n', '\r\n');
    const written = text(writeCodexConfig(crlf, block));
    expect(written.replaceAll('\r\n', '')).not.toContain('\n');
    expect(parse(written)['model_provider']).toBe('codex-lab');
    expect(text(writeCodexConfig(written, block))).toBe(written);
    expect(text(removeCodexConfig(written, block))).toBe(crlf);
  });

  it('refuses a file that does not parse, saying where', () => {
    const broken = 'model = "gpt-5.5"\n[projects\ntrust_level = "trusted"\n';
    for (const edit of [writeCodexConfig, removeCodexConfig]) {
      const result = edit(broken, block);
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.code).toBe('corrupt_file');
      expect(result.message).toMatch(/^is not valid TOML \(line 2, column \d+\): /);
      expect(result.message).not.toContain('\n');
    }
  });

  it('refuses an edit that would not read back as the same settings (our provider set with dotted keys)', () => {
    const dotted =
      'model_providers.codex-lab.name = "mine"\n\n[projects."/r"]\ntrust_level = "trusted"\n';
    const result = writeCodexConfig(dotted, block);
    expect(result).toMatchObject({ ok: false, code: 'invalid_config' });
  });

  it('refuses a model_providers inline table with advice that works: its providers as tables at the end', () => {
    const inline = [
      'model = "o3"',
      'model_providers = { mine = { name = "Mine", base_url = "http://localhost:9000/v1" }, other = { name = "O" } }',
      '',
      '[projects."/r"]',
      'trust_level = "trusted"',
      '',
    ].join('\n');
    const result = writeCodexConfig(inline, block);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe('invalid_config');
    expect(result.message).toBe(
      'sets model_providers as an inline table (model_providers = { … }), which TOML does not let the [model_providers.codex-lab] table add to',
    );
    expect(result.advice).toBe(
      'write its providers as tables instead, at the end of the file ([model_providers.mine], [model_providers.other], each with its keys on the lines under it), then run --write again',
    );
    // The file the advice asks for: it reads as the same settings, and --write then works.
    const advised = [
      'model = "o3"',
      '',
      '[projects."/r"]',
      'trust_level = "trusted"',
      '',
      '[model_providers.mine]',
      'name = "Mine"',
      'base_url = "http://localhost:9000/v1"',
      '',
      '[model_providers.other]',
      'name = "O"',
      '',
    ].join('\n');
    expect(parse(advised)).toEqual(parse(inline));
    const written = text(writeCodexConfig(advised, block));
    expect(parse(written)['model_providers']).toMatchObject({
      mine: { name: 'Mine' },
      other: { name: 'O' },
      'codex-lab': { name: 'Codex Lab' },
    });
    expect(parse(written)['model_provider']).toBe('codex-lab');
    // The old advice (the block's table added by hand) does not parse.
    expect(() => parse(`${inline}\n${block.slice(block.indexOf('[model_providers.'))}`)).toThrow();
    // Dotted keys are not an inline table: the table can be added after them.
    expect(writeCodexConfig('model_providers.mine.name = "Mine"\n', block).ok).toBe(true);
  });

  it('takes out a block pasted by hand the old way, the keys pasted at the top included', () => {
    const pasted = `${block}\n${trusted}`;
    const removed = text(removeCodexConfig(pasted, block));
    const data = parse(removed);
    expect(data['model_provider']).toBeUndefined();
    expect(data['model_providers']).toBeUndefined();
    expect(data['projects']).toEqual({ '/home/x/repo': { trust_level: 'trusted' } });
  });
});

describe('a codex-lab table the user added to', () => {
  const retired = retiredCodexConfigBlock();
  /** The block's table lines, by key (the header first). */
  const ours = block.slice(block.indexOf('[model_providers.codex-lab]')).trimEnd().split('\n');
  const line = (key: string) => ours.find((text) => text.startsWith(`${key} = `))!;
  const own = [
    '# my settings',
    'model = "gpt-5.5"',
    'profile = "work"',
    '',
    '[model_providers.codex-lab]',
    '# router via my VPN',
    'name = "Codex Lab"',
    'base_url = "http://127.0.0.1:4567/backend-api/codex" # the old port',
    "wire_api = 'responses'",
    'env_http_headers = { "x-codex-lab-profile" = "CODEX_LAB_PROFILE" }',
    'request_max_retries = 8 # be patient',
    'stream_idle_timeout_ms = 600000',
    'stream_max_retries = 10',
    'http_headers = { "x-team" = "infra" }',
    '',
    '[model_providers.codex-lab.query_params]',
    'api-version = "2025-04-01"',
    '',
    '[profiles.work]',
    'model = "o3"',
    '',
    '[projects."/home/x/repo"]',
    'trust_level = "trusted"',
    '',
  ].join('\n');

  it("changes only Codex Lab's keys: the user's keys, comments, sub-tables and order stay as they were", () => {
    const result = writeCodexConfig(own, block, retired);
    expect(result).toMatchObject({ ok: true, changed: true, kept: ['base_url'] });
    const written = text(result);
    expect(written).toBe(
      [
        '# my settings',
        'model = "gpt-5.5"',
        'profile = "work"',
        writtenMarker,
        'model_provider = "codex-lab"',
        'chatgpt_base_url = "http://127.0.0.1:1456/backend-api/"',
        '',
        '[model_providers.codex-lab]',
        '# router via my VPN',
        'name = "Codex Lab"',
        // The user's own other value: set aside in place, ours under it.
        `${keptPrefix}base_url = "http://127.0.0.1:4567/backend-api/codex" # the old port`,
        line('base_url'),
        // The same value written another way is left as the user wrote it.
        "wire_api = 'responses'",
        // Ours and missing: after the last of ours.
        line('auth'),
        line('supports_standalone_web_search'),
        // An earlier Codex Lab's env_http_headers (exactly its value) is gone: it pinned every
        // session of Codex's background server (docs/routing.md).
        'request_max_retries = 8 # be patient',
        'stream_idle_timeout_ms = 600000',
        'stream_max_retries = 10',
        'http_headers = { "x-team" = "infra" }',
        '',
        '[model_providers.codex-lab.query_params]',
        'api-version = "2025-04-01"',
        '',
        '[profiles.work]',
        'model = "o3"',
        '',
        '[projects."/home/x/repo"]',
        'trust_level = "trusted"',
        '',
      ].join('\n'),
    );
    const provider = (parse(written)['model_providers'] as Record<string, unknown>)['codex-lab'];
    expect(provider).toEqual({
      ...((blockData['model_providers'] as Record<string, unknown>)['codex-lab'] as object),
      request_max_retries: 8,
      stream_idle_timeout_ms: 600000,
      stream_max_retries: 10,
      http_headers: { 'x-team': 'infra' },
      query_params: { 'api-version': '2025-04-01' },
    });
    // A second --write is a no-op.
    expect(writeCodexConfig(written, block, retired)).toMatchObject({
      ok: true,
      changed: false,
      text: written,
    });
  });

  it("keeps an env_http_headers of the user's own, and replaces a sub-table that sets one of our keys", () => {
    const mine = [
      '[model_providers.codex-lab]',
      'name = "Codex Lab"',
      'env_http_headers = { "x-codex-lab-profile" = "CODEX_LAB_PROFILE", "x-team" = "TEAM" }',
      '',
      '[model_providers.codex-lab.auth]',
      'command = "somewhere-else"',
      '',
    ].join('\n');
    const written = text(writeCodexConfig(mine, block, retired));
    const provider = (parse(written)['model_providers'] as Record<string, unknown>)[
      'codex-lab'
    ] as Record<string, unknown>;
    expect(provider['env_http_headers']).toEqual({
      'x-codex-lab-profile': 'CODEX_LAB_PROFILE',
      'x-team': 'TEAM',
    });
    expect(provider['auth']).toEqual(
      (
        (blockData['model_providers'] as Record<string, unknown>)['codex-lab'] as Record<
          string,
          unknown
        >
      )['auth'],
    );
    // The user's own auth table is set aside whole, for --remove to put back.
    expect(written).toContain(
      `${keptPrefix}[model_providers.codex-lab.auth]\n${keptPrefix}command = "somewhere-else"\n`,
    );
    const removed = text(removeCodexConfig(written, block, retired));
    expect(text(writeCodexConfig(removed, block, retired))).toBe(written);
    expect(text(writeCodexConfig(written, block, retired))).toBe(written);
  });

  it('--remove sets the rest of the table aside as comments, so Codex still starts, and --write puts it back', () => {
    const written = text(writeCodexConfig(own, block, retired));
    const removed = removeCodexConfig(written, block, retired);
    expect(removed).toMatchObject({
      ok: true,
      changed: true,
      tableKept: [
        'request_max_retries',
        'stream_idle_timeout_ms',
        'stream_max_retries',
        'http_headers',
        'query_params',
      ],
    });
    const data = parse(text(removed));
    // Codex refuses a provider table without its name: none is left live.
    expect(data['model_providers']).toBeUndefined();
    expect(data['model_provider']).toBeUndefined();
    expect(data['profiles']).toEqual({ work: { model: 'o3' } });
    for (const user of [
      '# router via my VPN',
      'request_max_retries = 8 # be patient',
      'http_headers = { "x-team" = "infra" }',
      '[model_providers.codex-lab.query_params]',
    ]) {
      expect(text(removed)).toContain(`${keptPrefix}${user}\n`);
    }
    expect(removeCodexConfig(text(removed), block, retired)).toMatchObject({ changed: false });
    // Even an empty sub-table of the user's is set aside, not deleted.
    const empty = `${block}\n[model_providers.codex-lab.mine]\n`;
    expect(text(removeCodexConfig(empty, block, retired))).toContain(
      `${keptPrefix}[model_providers.codex-lab.mine]\n`,
    );
    // --write again: the user's keys are live again, under our keys.
    const again = writeCodexConfig(text(removed), block, retired);
    expect(again).toMatchObject({
      ok: true,
      tableKept: expect.arrayContaining(['stream_max_retries']),
    });
    expect(text(again).split(keptPrefix)).toHaveLength(2);
    expect(parse(text(again))).toEqual(parse(written));
    // The user's set-aside base_url back, ours under it; only wire_api, at our value, is ours now.
    expect(text(again)).toBe(written.replace(`wire_api = 'responses'`, line('wire_api')));
    expect(text(writeCodexConfig(text(again), block, retired))).toBe(text(again));
  });
});

describe('a block appended the old way', () => {
  const appended = `${trusted}\n${block}`;

  it('is fixed by --write, which names the table still holding the stray keys and leaves them', () => {
    const result = writeCodexConfig(appended, block);
    expect(result).toMatchObject({ ok: true, strays: ['[projects."/home/x/repo"]'] });
    const written = text(result);
    expect(parse(written)['model_provider']).toBe('codex-lab');
    expect(parse(written)['projects']).toEqual(parse(appended)['projects']);
    expect(written.match(/\[model_providers\.codex-lab\]/g)).toHaveLength(1);
    expect(text(writeCodexConfig(written, block))).toBe(written);
    expect(writeCodexConfig(trusted, block)).toMatchObject({ strays: [] });
  });
});

describe('annotateCodexConfigBlock', () => {
  it('says, right above the top-level keys, that they go before any table, and names --write', () => {
    const printed = annotateCodexConfigBlock(block);
    const lines = printed.split('\n');
    const first = lines.findIndex((line) => line.startsWith('model_provider ='));
    expect(lines.slice(first - 3, first).join(' ')).toMatch(/TOP of config\.toml, before any/);
    expect(lines[first - 1]).toContain('codex-lab codex-config --write');
    // Still the same TOML.
    expect(parse(printed)).toEqual(blockData);
  });
});

describe("the user's own values for Codex Lab's keys in its table", () => {
  const retired = retiredCodexConfigBlock();
  const ours = block.slice(block.indexOf('[model_providers.codex-lab]')).trimEnd().split('\n');
  const line = (key: string) => ours.find((text) => text.startsWith(`${key} = `))!;

  /** write → write → remove → write: the second write changes nothing, remove gives `own` back. */
  function roundTrip(own: string): string {
    const written = text(writeCodexConfig(own, block, retired));
    expect(writeCodexConfig(written, block, retired)).toMatchObject({
      ok: true,
      changed: false,
      text: written,
    });
    expect(text(removeCodexConfig(written, block, retired))).toBe(own);
    expect(text(writeCodexConfig(own, block, retired))).toBe(written);
    return written;
  }

  it('sets a differing name or base_url aside as a kept comment in place, ours under it, and --remove puts it back', () => {
    const own = [
      '[model_providers.codex-lab]',
      'name = "x" # mine',
      '  base_url = "http://10.0.0.2:9000/backend-api/codex"',
      '',
    ].join('\n');
    expect(roundTrip(own)).toBe(
      [
        writtenMarker,
        'model_provider = "codex-lab"',
        'chatgpt_base_url = "http://127.0.0.1:1456/backend-api/"',
        '',
        '[model_providers.codex-lab]',
        `${keptPrefix}name = "x" # mine`,
        line('name'),
        `${keptPrefix}  base_url = "http://10.0.0.2:9000/backend-api/codex"`,
        `  ${line('base_url')}`,
        line('wire_api'),
        line('auth'),
        line('supports_standalone_web_search'),
        '',
      ].join('\n'),
    );
  });

  it('sets a [model_providers.codex-lab.auth] table of its own aside whole, header included, and --remove puts it back', () => {
    const own = [
      'model = "o3"',
      '',
      '[model_providers.codex-lab]',
      'name = "Mine"',
      'request_max_retries = 8',
      '',
      '[model_providers.codex-lab.auth]',
      'command = "my-token"',
      'cwd = "/srv"',
      '',
      '[projects."/r"]',
      'trust_level = "trusted"',
      '',
    ].join('\n');
    const written = roundTrip(own);
    expect(written).toBe(
      [
        'model = "o3"',
        writtenMarker,
        'model_provider = "codex-lab"',
        'chatgpt_base_url = "http://127.0.0.1:1456/backend-api/"',
        '',
        '[model_providers.codex-lab]',
        `${keptPrefix}name = "Mine"`,
        ...ours.slice(1),
        'request_max_retries = 8',
        '',
        `${keptPrefix}[model_providers.codex-lab.auth]`,
        `${keptPrefix}command = "my-token"`,
        `${keptPrefix}cwd = "/srv"`,
        '',
        '[projects."/r"]',
        'trust_level = "trusted"',
        '',
      ].join('\n'),
    );
    const provider = (parse(written)['model_providers'] as Record<string, unknown>)['codex-lab'];
    expect(provider).toEqual({
      ...((blockData['model_providers'] as Record<string, unknown>)['codex-lab'] as object),
      request_max_retries: 8,
    });
    // An inline auth of its own, and dotted keys, the same way.
    roundTrip(
      '[model_providers.codex-lab]\nname = "Mine"\nauth = { command = "t", cwd = "/srv" }\n',
    );
    roundTrip(
      '[model_providers.codex-lab]\nname = "Mine"\nauth.command = "t"\nauth.cwd = "/srv"\n',
    );
  });

  it('takes a comment of the user that starts like a kept line for a comment, not a line to put back', () => {
    const own = [
      `${keptPrefix}remember to ask ops`,
      'model = "o3"',
      '',
      '[tui]',
      `${keptPrefix}model_provider = "not at the top level: a note"`,
      `${keptPrefix}notifications = false`,
      '',
      '[model_providers.codex-lab]',
      `${keptPrefix}see the wiki`,
      `${keptPrefix}request_max_retries = 3`,
      'name = "Mine"',
      '',
    ].join('\n');
    const result = writeCodexConfig(own, block, retired);
    expect(result).toMatchObject({ ok: true, kept: ['name'] });
    roundTrip(own);
  });
});
