/** `core/config`: every CODEX_LAB_* setting read once, with one sentence per malformed value. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../../core/config.ts';
import { isLabError } from '../../../core/errors.ts';

function failure(env: NodeJS.ProcessEnv): { code: string; message: string } {
  try {
    readConfig(env);
  } catch (error) {
    if (isLabError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('readConfig accepted a malformed setting');
}

describe('readConfig', () => {
  it('gives the documented defaults when nothing is set', () => {
    expect(readConfig({})).toEqual({
      home: join(homedir(), '.codex-lab'),
      port: 1456,
      portFromEnvironment: false,
      callbackPort: 1455,
      issuer: 'https://auth.openai.com',
      chatGptBaseUrl: 'https://chatgpt.com/backend-api',
      codexBin: null,
      codexStopGraceMs: null,
      logLevel: null,
      primingPollMs: null,
      refreshWaitMs: null,
      profile: null,
      upstreamZstd: true,
      upstreamWebSocket: true,
      dashboardDir: null,
    });
  });

  it("reads a home that starts with ~ as under the user's home folder, as a shell would", () => {
    expect(readConfig({ CODEX_LAB_HOME: '~/lab' }).home).toBe(join(homedir(), 'lab'));
    expect(readConfig({ CODEX_LAB_HOME: '~' }).home).toBe(homedir());
  });

  it('refuses a relative home: two shells in two folders would be two homes', () => {
    // Only a leading ~ alone or before a separator is the home folder: ~user and a ~ inside a
    // name are relative paths like any other.
    for (const home of ['rel', ' relative/home ', './lab', '~ann/lab', 'a/~/b']) {
      expect(failure({ CODEX_LAB_HOME: home })).toEqual({
        code: 'invalid_config',
        message: `CODEX_LAB_HOME must be an absolute path or start with ~ (such as ~/.codex-lab), not "${home.trim()}".`,
      });
    }
    const absolute = resolve('some/where');
    expect(readConfig({ CODEX_LAB_HOME: ` ${absolute} ` }).home).toBe(absolute);
  });

  it('reads every variable, trimmed, without trailing slashes', () => {
    expect(
      readConfig({
        CODEX_LAB_HOME: ` ${resolve('some/home')} `,
        CODEX_LAB_PORT: '0',
        CODEX_LAB_CALLBACK_PORT: '4000',
        CODEX_LAB_AUTH_ISSUER: 'http://127.0.0.1:9/',
        CODEX_LAB_CHATGPT_BASE_URL: 'http://127.0.0.1:9/backend-api//',
        CODEX_LAB_CODEX_BIN: '/opt/codex',
        CODEX_LAB_CODEX_STOP_GRACE_MS: '300',
        CODEX_LAB_LOG_LEVEL: 'DEBUG',
        CODEX_LAB_PRIMING_POLL_MS: '250',
        CODEX_LAB_PROFILE: 'work',
        CODEX_LAB_UPSTREAM_ZSTD: ' Off ',
        CODEX_LAB_UPSTREAM_WEBSOCKET: ' OFF ',
      }),
    ).toEqual({
      home: resolve('some/home'),
      port: 0,
      portFromEnvironment: true,
      callbackPort: 4000,
      issuer: 'http://127.0.0.1:9',
      chatGptBaseUrl: 'http://127.0.0.1:9/backend-api',
      codexBin: '/opt/codex',
      codexStopGraceMs: 300,
      logLevel: 'debug',
      primingPollMs: 250,
      refreshWaitMs: null,
      profile: 'work',
      upstreamZstd: false,
      upstreamWebSocket: false,
      dashboardDir: null,
    });
  });

  it('names the variable and the accepted form for every malformed value', () => {
    expect(failure({ CODEX_LAB_CALLBACK_PORT: 'abc' })).toEqual({
      code: 'invalid_config',
      message:
        'CODEX_LAB_CALLBACK_PORT must be a port number from 0 to 65535 (0 picks a free one), not "abc".',
    });
    expect(failure({ CODEX_LAB_PORT: '70000' }).message).toBe(
      'CODEX_LAB_PORT must be a port number from 0 to 65535 (0 picks a free one), not "70000".',
    );
    expect(failure({ CODEX_LAB_PORT: '-1' }).code).toBe('invalid_config');
    expect(failure({ CODEX_LAB_AUTH_ISSUER: 'auth.openai.com' }).message).toBe(
      'CODEX_LAB_AUTH_ISSUER must be an http(s) URL such as https://auth.openai.com, not "auth.openai.com".',
    );
    expect(failure({ CODEX_LAB_CHATGPT_BASE_URL: 'ftp://x' }).message).toMatch(
      /^CODEX_LAB_CHATGPT_BASE_URL must be an http\(s\) URL/,
    );
    expect(failure({ CODEX_LAB_LOG_LEVEL: 'loud' }).message).toBe(
      'CODEX_LAB_LOG_LEVEL must be one of debug, info, warn, error, not "loud".',
    );
    expect(failure({ CODEX_LAB_PRIMING_POLL_MS: '1.5' }).message).toBe(
      'CODEX_LAB_PRIMING_POLL_MS must be a positive whole number of milliseconds, not "1.5".',
    );
    expect(failure({ CODEX_LAB_PRIMING_POLL_MS: '3000000000' }).message).toBe(
      'CODEX_LAB_PRIMING_POLL_MS must be at most 2147483647 milliseconds (about 24 days), not "3000000000".',
    );
    expect(failure({ CODEX_LAB_UPSTREAM_ZSTD: 'maybe' }).message).toBe(
      'CODEX_LAB_UPSTREAM_ZSTD must be on or off, not "maybe".',
    );
  });

  it('is the only reader of CODEX_LAB_* variables in the shipped code', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const root = resolve(import.meta.dirname, '../../..');
    const files = (folder: string): string[] =>
      readdirSync(join(root, folder), { withFileTypes: true, recursive: true })
        .filter((entry) => entry.isFile() && /\.(ts|tsx)$/.test(entry.name))
        .map((entry) => join(entry.parentPath, entry.name));
    const readers = [...files('core'), ...files('electron'), ...files('renderer')].filter(
      (file) =>
        !file.endsWith('core/config.ts') &&
        /env(\[['"]|\.)CODEX_LAB_|(?<!\w)(1456|1455)(?!\d)|auth\.openai\.com/.test(
          readFileSync(file, 'utf8')
            .split('\n')
            .filter((line) => !/^\s*(\*|\/\/|\/\*\*)/.test(line))
            .join('\n'),
        ),
    );
    expect(readers.map((file) => file.slice(root.length + 1))).toEqual([]);
  });
});
