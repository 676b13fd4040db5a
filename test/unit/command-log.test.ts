import { describe, expect, it } from 'vitest';
import { commandLogLine, createCommandLogger } from '../../core/cli/command-log.ts';
import { redactedText } from '../../core/redact.ts';

const jwt = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from('{"sub":"planted"}').toString('base64url')}.sig`;
const routerToken = 'router-token-planted-0123456789';

/** A command logger writing into an array of lines. */
function capturing(level?: 'debug' | 'info' | 'warn' | 'error') {
  const lines: string[] = [];
  const logger = createCommandLogger({
    stream: { write: (chunk: string) => lines.push(chunk) } as never,
    ...(level ? { level } : {}),
    secrets: () => [routerToken],
  });
  return { lines, logger };
}

describe('the one-shot command logger', () => {
  it('says a log call as one sentence, fields in words, the module binding left out', () => {
    const { lines, logger } = capturing();
    logger.child({ component: 'profile-store' }).error(
      {
        path: '/home/u/state/journal/1-add.json',
        op: 'add',
        err: new Error('The keychain\nis locked.'),
      },
      'could not replay a journal record; it was kept for the next load',
    );
    expect(lines).toEqual([
      'codex-lab: Could not replay a journal record; it was kept for the next load (path: /home/u/state/journal/1-add.json, op: add, error: The keychain is locked).\n',
    ]);
  });

  it('does not repeat a path the message already names, and lists arrays by item', () => {
    expect(
      commandLogLine(
        'warn',
        { path: '/h/state/health.json', profiles: ['a', 'b'], missing: null },
        '/h/state/health.json is not valid JSON.',
      ),
    ).toBe('codex-lab: /h/state/health.json is not valid JSON (profiles: a, b, missing: none).');
  });

  it('says each line once per command, however often the same thing is logged', () => {
    const { lines, logger } = capturing();
    for (let load = 0; load < 5; load += 1) logger.warn({ path: '/x' }, 'set aside a record');
    logger.warn({ path: '/y' }, 'set aside a record');
    expect(lines).toHaveLength(2);
  });

  it('says warnings and errors by default; debug and info only when asked, marked', () => {
    const quiet = capturing();
    quiet.logger.debug({}, 'adopting tokens refreshed elsewhere');
    quiet.logger.info({}, 'refreshing access token');
    expect(quiet.lines).toEqual([]);
    const loud = capturing('debug');
    loud.logger.debug({ profile: 'work' }, 'adopting tokens refreshed elsewhere');
    expect(loud.lines).toEqual([
      'codex-lab: debug: Adopting tokens refreshed elsewhere (profile: work).\n',
    ]);
    const errorsOnly = capturing('error');
    errorsOnly.logger.warn({}, 'completed an interrupted removal');
    expect(errorsOnly.lines).toEqual([]);
  });

  it('never writes a planted token, in a field, the message or an error, and never JSON', () => {
    const { lines, logger } = capturing();
    logger.warn(
      {
        headers: { authorization: `Bearer ${routerToken}` },
        refresh_token: 'rt_planted_opaque_value',
        accessToken: jwt,
        err: new Error('refresh failed with Bearer rt_planted_opaque_value'),
      },
      `upstream echoed ${jwt} and ${routerToken}`,
    );
    const output = lines.join('');
    for (const planted of [jwt, routerToken, 'rt_planted_opaque_value']) {
      expect(output).not.toContain(planted);
    }
    expect(output).toContain(redactedText);
    expect(() => JSON.parse(lines[0]!)).toThrow();
  });
});

describe('credentials in nested fields', () => {
  it('never reach the line: key names of API keys, fields inside lists, and values nested deep', () => {
    const apiKey = 'sk-proj-planted0123456789abcdef';
    let deep: Record<string, unknown> = { access_token: jwt };
    for (let level = 0; level < 12; level += 1) deep = { inner: deep };
    const line = commandLogLine(
      'warn',
      {
        auth: { OPENAI_API_KEY: apiKey },
        list: [{ 'x-api-key': apiKey }],
        deep,
      },
      'could not start',
    );
    expect(line).not.toContain(apiKey);
    expect(line).not.toContain(jwt);
    expect(line).not.toContain('planted');
  });
});
