/**
 * Codex Lab's own calls to OpenAI (a token refresh, a usage read, a priming turn, the router's
 * usage reads), measured from the outside as the fake upstream sees them: each presents Codex's
 * identity with this machine's real platform, and carries no header Codex does not send (an HTTP
 * library's defaults, such as `fetch`'s `sec-fetch-mode` and `accept-language`).
 */
import { rm } from 'node:fs/promises';
import { arch, release, type } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeChatGpt, type FakeChatGpt, type RecordedRequest } from '../fakes/fake-chatgpt.ts';
import { setCompression } from '../fakes/fake-backend.ts';
import { expireAccessTokens } from '../fakes/fake-issuer.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { addUnstartedAccounts } from '../helpers/fake-windows.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';

/**
 * Every header name Codex puts on these calls (docs/codex-0.171-notes.md section 1,
 * docs/codex-protocol.md sections 2.1, 5.3 and 7), plus what HTTP/1.1 itself needs.
 */
const codexHeaderNames = new Set([
  'host',
  'connection',
  'content-length',
  'content-type',
  'accept',
  'accept-encoding',
  'authorization',
  'chatgpt-account-id',
  'originator',
  'user-agent',
  'x-openai-account-routing-override',
]);

/** This machine as Codex writes it in its User-Agent: `<os type> <release>; <arch>`. */
const platform = `${type()} ${release()}; ${arch() === 'x64' ? 'x86_64' : arch() === 'arm64' ? 'aarch64' : arch()}`;

let fake: FakeChatGpt;
let home: string;
const serves: ServeChild[] = [];

function env(): Record<string, string> {
  return { CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl, CODEX_LAB_AUTH_ISSUER: fake.issuerUrl };
}

/** The names a request carried, lower-cased, in the order sent. */
function namesOf(request: RecordedRequest): string[] {
  return request.rawHeaders.filter((_, index) => index % 2 === 0).map((name) => name.toLowerCase());
}

/** What the fake saw of one call, in a form a failing assertion shows whole. */
function seen(request: RecordedRequest) {
  return {
    call: `${request.method} ${request.path.split('?')[0]}`,
    originator: request.headers['originator'],
    acceptEncoding: request.headers['accept-encoding'],
    userAgent: request.headers['user-agent'],
    foreign: namesOf(request).filter((name) => !codexHeaderNames.has(name)),
  };
}

beforeEach(async () => {
  fake = await startFakeChatGpt();
  // Answers compressed as asked, as the real backend's are: every call must read them decoded.
  setCompression(fake, true);
  home = await makeTempHome('codex-lab-own-calls-');
  addUnstartedAccounts(fake, ['alpha@example.com', 'beta@example.com'], fake.nowSeconds());
  await seedProfiles(fake, home, [
    { name: 'alpha', email: 'alpha@example.com' },
    { name: 'beta', email: 'beta@example.com' },
  ]);
});

afterEach(async () => {
  await stopServes(serves);
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

describe("Codex Lab's own calls to OpenAI", () => {
  it('carry Codex’s identity with the real platform, and no header Codex does not send', async () => {
    // A usage read whose token the upstream refuses: the read refreshes once at the issuer.
    expireAccessTokens(fake, 'alpha@example.com');
    const usage = await runCodexLab(['usage', 'alpha', '--refresh'], { home, env: env() });
    expect(usage.code, usage.stderr).toBe(0);
    const prime = await runCodexLab(['prime', 'beta'], { home, env: env() });
    expect(prime.code, prime.stderr).toBe(0);
    // The router's own reads: `usage --refresh` asks the running router, which reads (and
    // refreshes beta's refused token) itself; Codex's usage call is answered by the router.
    const serve = await startServe(home, env());
    serves.push(serve);
    const before = fake.requests.length;
    expireAccessTokens(fake, 'beta@example.com');
    const routed = await runCodexLab(['usage', '--refresh'], { home, env: env() });
    expect(routed.code, routed.stderr).toBe(0);
    const bearer = (await runCodexLab(['token'], { home })).stdout.trim();
    const answer = await fetch(`${serve.url}/backend-api/wham/usage`, {
      headers: { authorization: `Bearer ${bearer}` },
    });
    expect(answer.status).toBe(200);
    await answer.arrayBuffer();
    const byRouter = fake.requests.slice(before).map((request) => seen(request).call);
    expect(byRouter).toContain('GET /backend-api/wham/usage');
    expect(byRouter).toContain('POST /oauth/token');

    const calls = fake.requests.map((request) => seen(request).call);
    // Every kind of call was made (the test measures nothing when one is missing).
    expect(calls).toContain('POST /oauth/token');
    expect(calls).toContain('GET /backend-api/wham/usage');
    expect(calls).toContain('POST /backend-api/codex/responses');
    expect(calls).toContain('GET /backend-api/wham/accounts/check');
    // Compared whole, so one failure shows every call that differs.
    expect(fake.requests.map(seen)).toEqual(
      fake.requests.map((request) => ({
        call: seen(request).call,
        originator: 'codex_cli_rs',
        // Codex 0.171's, not fetch's `br, gzip, deflate, zstd`.
        acceptEncoding: 'zstd,gzip',
        userAgent: `codex_cli_rs/0.171.0 (${platform}) codex-lab`,
        foreign: [],
      })),
    );
  });
});
