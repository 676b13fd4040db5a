import { describe, expect, it } from 'vitest';
import { createLogger, humanLogLine } from '../../core/log.ts';
import { redactedText, scrubSecrets } from '../../core/redact.ts';

const jwt = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from('{"sub":"planted"}').toString('base64url')}.sig`;
const routerToken = 'router-token-planted-0123456789';

/** A logger writing synchronously into an array of lines. */
function capturingLogger(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void lines.push(line) },
    secrets: () => [routerToken],
  });
  return { lines, logger };
}

describe('scrubSecrets', () => {
  it('replaces JWTs, bearer values and registered secrets, and leaves short strings alone', () => {
    expect(scrubSecrets(`a ${jwt} b`)).toBe(`a ${redactedText} b`);
    expect(scrubSecrets('authorization: Bearer abc.def')).toBe(
      `authorization: Bearer ${redactedText}`,
    );
    expect(scrubSecrets(`x${routerToken}y`, [routerToken])).toBe(`x${redactedText}y`);
    expect(scrubSecrets('short secret', ['short'])).toBe('short secret');
  });

  it('replaces the password of a URL (a proxy’s), keeping the rest of it', () => {
    expect(scrubSecrets('tunnel via http://alice:s3cr%40t@proxy.corp:3128 failed')).toBe(
      `tunnel via http://alice:${redactedText}@proxy.corp:3128 failed`,
    );
    expect(scrubSecrets('HTTPS_PROXY=https://bob:pw@10.0.0.1:443')).toBe(
      `HTTPS_PROXY=https://bob:${redactedText}@10.0.0.1:443`,
    );
    // A URL without user information, or an address with a port only, is left as it is.
    expect(scrubSecrets('see https://chatgpt.com:443/backend-api and a@b.c')).toBe(
      'see https://chatgpt.com:443/backend-api and a@b.c',
    );
  });
});

describe('createLogger', () => {
  it('never writes a planted token, whether in a field, a message or an error', () => {
    const { lines, logger } = capturingLogger();
    logger.info(
      {
        profile: 'work',
        headers: { authorization: `Bearer ${routerToken}`, 'set-cookie': 'session=abc' },
        refresh_token: 'rt_planted_opaque_value',
        accessToken: jwt,
      },
      `upstream echoed ${jwt} and ${routerToken}`,
    );
    logger.warn({ err: new Error(`refresh failed with Bearer rt_planted_opaque_value`) }, 'boom');
    const output = lines.join('');
    expect(lines).toHaveLength(2);
    for (const planted of [jwt, routerToken, 'rt_planted_opaque_value', 'session=abc']) {
      expect(output).not.toContain(planted);
    }
    expect(output).toContain('"profile":"work"');
    expect(output).toContain(redactedText);
  });
});

describe('human log lines', () => {
  it('turns a JSON line into time, level, message and fields, still without secrets', () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      format: 'human',
      destination: { write: (line: string) => void lines.push(line) },
      secrets: () => [routerToken],
    });
    logger.info(
      { profile: 'work', skipped: ['home'] },
      `fallback: s1 moved to work ${routerToken}`,
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d INFO {2}fallback: s1 moved to work \S+ profile=work skipped=\["home"\]\n$/,
    );
    expect(lines[0]).not.toContain(routerToken);
    expect(humanLogLine('not json')).toBe('not json');
  });
});
