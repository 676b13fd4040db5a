/**
 * Behind a proxy that is the only way out: `codex-lab serve` and the CLI reach OpenAI through the
 * proxy the environment names (`HTTPS_PROXY` / `HTTP_PROXY`), as Codex does, over HTTP and over
 * the upstream WebSocket, and the usage read goes the same way. The fake ChatGPT is named by a
 * host (`chatgpt.test`) that only the fake proxy resolves, so a request that skipped the proxy
 * would fail, not pass unnoticed. Real child processes, loopback only.
 */
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  fakeTlsCaFile,
  startFakeChatGpt,
  trustFakeTlsCa,
  type FakeChatGpt,
} from '../fakes/fake-chatgpt.ts';
import { startFakeProxy, type FakeProxy } from '../fakes/fake-proxy.ts';
import { enableResponsesWebSocket } from '../fakes/fake-responses-websocket.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { postTurn, startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';

let fake: FakeChatGpt;
let proxy: FakeProxy;
let home: string;
const children: ServeChild[] = [];

/** The fake's URL with its host renamed: only the proxy can reach it. */
const behindProxy = (url: string, host: string) => url.replace('127.0.0.1', host);

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    CODEX_LAB_CHATGPT_BASE_URL: behindProxy(fake.backendUrl, 'chatgpt.test'),
    CODEX_LAB_AUTH_ISSUER: behindProxy(fake.issuerUrl, 'auth.test'),
    // Both cases: the lower-case one wins where both are set, and this machine may name its own.
    HTTPS_PROXY: proxy.url,
    https_proxy: proxy.url,
    HTTP_PROXY: proxy.url,
    http_proxy: proxy.url,
    NO_PROXY: '',
    no_proxy: '',
    ...extra,
  };
}

beforeEach(async () => {
  fake = await startFakeChatGpt({ accounts: [{ email: 'alpha@example.com', reply: 'Hi.' }] });
  enableResponsesWebSocket(fake);
  proxy = await startFakeProxy();
  home = await makeTempHome('codex-lab-outbound-proxy-');
  await seedProfiles(fake, home, [{ name: 'alpha', email: 'alpha@example.com' }]);
});

afterEach(async () => {
  await stopServes(children);
  await proxy.close();
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

/** One streamed turn through the router; the SSE text. */
async function turn(serve: ServeChild, bearer: string, session: string): Promise<string> {
  const answer = await postTurn(serve, bearer, session);
  expect(answer.status).toBe(200);
  return answer.text();
}

const backendHost = () => new URL(behindProxy(fake.backendUrl, 'chatgpt.test')).host;

describe('an outbound proxy from the environment', () => {
  it('carries the router’s upstream WebSocket turns through a CONNECT tunnel', async () => {
    const bearer = (await runCodexLab(['token'], { home })).stdout.trim();
    const serve = await startServe(home, env());
    children.push(serve);
    expect(await turn(serve, bearer, 'proxied-socket')).toContain('response.completed');
    expect(fake.upgrades).toHaveLength(1);
    expect(proxy.tunnels).toContain(backendHost());
    expect(proxy.refused).toEqual([]);
    expect(serve.output()).toContain(
      `Upstream http://${backendHost()} through the proxy ${proxy.url}`,
    );
  });

  it('carries the router’s HTTP turns through the proxy too', async () => {
    const bearer = (await runCodexLab(['token'], { home })).stdout.trim();
    const serve = await startServe(home, env({ CODEX_LAB_UPSTREAM_WEBSOCKET: 'off' }));
    children.push(serve);
    expect(await turn(serve, bearer, 'proxied-http')).toContain('response.completed');
    expect(fake.upgrades).toHaveLength(0);
    expect(
      fake.requests.filter((request) => request.path === '/backend-api/codex/responses'),
    ).toHaveLength(1);
    expect(proxy.tunnels).toContain(backendHost());
  });

  it('reads usage through the proxy from the CLI', async () => {
    const run = await runCodexLab(['usage', '--refresh', '--json'], { home, env: env() });
    expect(run.code, run.stderr).toBe(0);
    expect(proxy.tunnels).toContain(backendHost());
  });

  it('carries WebSocket and HTTP turns to an upstream over TLS through the tunnel (the certificate checked against the upstream’s name, later sockets resuming the TLS session)', async () => {
    // The same world over TLS, as chatgpt.com is: the fake's certificate names `chatgpt.test`.
    await fake.close();
    trustFakeTlsCa();
    fake = await startFakeChatGpt({
      accounts: [{ email: 'alpha@example.com', reply: 'Hi.' }],
      tls: true,
    });
    enableResponsesWebSocket(fake);
    await rm(home, { recursive: true, force: true });
    home = await makeTempHome('codex-lab-outbound-proxy-');
    await seedProfiles(fake, home, [{ name: 'alpha', email: 'alpha@example.com' }]);
    const bearer = (await runCodexLab(['token'], { home })).stdout.trim();
    const overTls = env({ NODE_EXTRA_CA_CERTS: fakeTlsCaFile });
    const serve = await startServe(home, overTls);
    children.push(serve);
    for (const session of ['tls-a', 'tls-b', 'tls-c']) {
      expect(await turn(serve, bearer, session)).toContain('response.completed');
    }
    expect(fake.upgrades).toHaveLength(3);
    // Each session's socket after the first resumes its TLS session through the tunnel too.
    expect(fake.upgrades.map((upgrade) => upgrade.tlsResumed)).toEqual([false, true, true]);
    expect(proxy.tunnels).toContain(backendHost());
    expect(proxy.refused).toEqual([]);
    expect(serve.output()).toContain(
      `Upstream https://${backendHost()} through the proxy ${proxy.url}`,
    );
    // One router per home: the HTTP one starts once the first has stopped.
    await stopServes(children);
    const http = await startServe(home, { ...overTls, CODEX_LAB_UPSTREAM_WEBSOCKET: 'off' });
    children.push(http);
    expect(await turn(http, bearer, 'tls-http')).toContain('response.completed');
    expect(
      fake.requests.filter(
        (request) => request.path === '/backend-api/codex/responses' && !request.transport,
      ),
    ).toHaveLength(1);
  });

  it('names a proxy variable that is not a URL in one sentence, without its value', async () => {
    const run = await runCodexLab(['usage', '--refresh'], {
      home,
      env: env({ HTTPS_PROXY: 'http://user:s3cret@[broken', https_proxy: '' }),
    });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      'codex-lab: HTTPS_PROXY is not a proxy URL (such as http://proxy.example:3128); fix it or unset it.',
    );
    expect(run.stderr).not.toContain('s3cret');
  });
});
