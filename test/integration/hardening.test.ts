/**
 * Hardening (issue 9, item 9): Host and Origin checked against loopback names on the router,
 * control API and dashboard (DNS rebinding fails even with the token); the sign-in callback's
 * `/cancel` ignores web pages and foreign Hosts; a new sign-in closes an abandoned one's listener
 * at once; a request body that stalls is dropped; `serve --host` beyond loopback warns loudly, and
 * a host or port serve cannot listen on is one sentence.
 */
import { lookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { hostname } from 'node:os';
import { connect, createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { startLogin } from '../../core/auth/browser-login.ts';
import { silentLogger, systemClock, type Logger } from '../../core/ports.ts';
import { createRouterServer } from '../../core/proxy/server.ts';
import type { ProxyEngine } from '../../core/proxy/engine.ts';
import { setNextLogin } from '../fakes/fake-issuer.ts';
import { startSignInFixture, visit, type SignInFixture } from '../helpers/auth-harness.ts';
import { runCodexLab } from '../helpers/cli.ts';
import { startServe, stopServes } from './cli-serve-helper.ts';
import { createTestLabService, startTestRouter, type TestRouter } from '../helpers/lab-service.ts';
import { tempFolder } from '../helpers/temp-folder.ts';

/** A raw GET with exactly the headers given (fetch would set Host itself). */
function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: 'GET',
        headers,
        setHost: false,
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on('error', reject);
    request.end();
  });
}

let router: TestRouter;

beforeAll(async () => {
  router = await startTestRouter({
    homePrefix: 'codex-lab-hardening-',
    accounts: [{ email: 'alice@example.com' }],
    profiles: [['alice@example.com', 'alice']],
  });
});
afterAll(() => router.close());

describe('Host and Origin checks', () => {
  it('refuse a rebinding page on the router, the control API and the dashboard, token or not', async () => {
    const port = new URL(router.url).port;
    const auth = { authorization: `Bearer ${router.token}` };
    for (const path of ['/backend-api/wham/usage', '/lab/v1/state', '/ui/']) {
      const foreign = await rawGet(`${router.url}${path}`, {
        host: `evil.example:${port}`,
        ...auth,
      });
      expect(foreign.status, path).toBe(421);
      // The control API's envelope on its own paths; the router's OpenAI-shaped one elsewhere.
      const body = JSON.parse(foreign.body) as Record<string, unknown>;
      if (path.startsWith('/lab/')) {
        expect(body, path).toMatchObject({ ok: false, code: 'misdirected_request' });
      } else if (path.startsWith('/backend-api/')) {
        expect(body, path).toMatchObject({ error: { code: 'misdirected_request' } });
      }
      const foreignOrigin = await rawGet(`${router.url}${path}`, {
        host: `127.0.0.1:${port}`,
        origin: 'http://evil.example',
        ...auth,
      });
      expect(foreignOrigin.status, path).toBe(421);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const local = await rawGet(`${router.url}/lab/v1/state`, {
        host,
        origin: `http://${host}`,
        ...auth,
      });
      expect(local.status).toBe(200);
    }
  });
});

describe('a request body that stalls', () => {
  it('is dropped after the idle timeout, and the router keeps serving', async () => {
    const engine = {} as ProxyEngine;
    const server = await createRouterServer({
      engine,
      token: 'secret',
      clock: systemClock,
      logger: silentLogger,
      port: 0,
      bodyIdleTimeoutMs: 300,
      upstreamWebSocket: true,
    });
    try {
      const socket = connect(server.port, '127.0.0.1');
      const closed = new Promise<number>((resolve) => {
        const started = Date.now();
        socket.on('close', () => resolve(Date.now() - started));
      });
      socket.on('error', () => undefined);
      socket.write(
        `POST /backend-api/codex/responses HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer secret\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":`,
      );
      expect(await closed).toBeLessThan(5_000);
    } finally {
      await server.close();
    }
  });
});

describe('a connection the router cannot accept', () => {
  it('is logged, and the router keeps listening instead of ending with a stack trace', async () => {
    const warned: string[] = [];
    const recording: Logger = {
      ...silentLogger,
      warn: (_fields: object, message?: string) => void warned.push(message ?? ''),
      child: () => recording,
    };
    const server = await createRouterServer({
      engine: {} as ProxyEngine,
      token: 'secret',
      clock: systemClock,
      logger: recording,
      port: 0,
      upstreamWebSocket: true,
    });
    try {
      // What Node does when accept fails (out of file descriptors): the server's 'error' event,
      // which throws when nobody listens for it.
      const accept = Object.assign(new Error('accept EMFILE'), {
        code: 'EMFILE',
        syscall: 'accept',
      });
      expect(() => server.server.emit('error', accept)).not.toThrow();
      expect(warned).toContain('the router could not accept a connection');
      expect(server.server.listening).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('the sign-in callback', () => {
  let fixture: SignInFixture;
  beforeAll(async () => {
    fixture = await startSignInFixture([{ email: 'alice@example.com' }]);
  });
  afterAll(() => fixture.close());

  const options = () => ({
    paths: fixture.home.paths,
    issuer: fixture.fake.issuerUrl,
    callbackPort: 0,
    requestedName: null,
    clock: systemClock,
    logger: silentLogger,
  });

  it('ignores /cancel from a web page or a foreign Host; a program taking the port over still cancels', async () => {
    const login = await startLogin(options());
    const url = `http://127.0.0.1:${login.port}/cancel`;
    const fromPage = await rawGet(url, {
      host: `localhost:${login.port}`,
      origin: 'http://evil.example',
      'sec-fetch-site': 'cross-site',
    });
    expect(fromPage.status).toBe(403);
    const rebound = await rawGet(url, { host: `evil.example:${login.port}` });
    expect(rebound.status).toBe(421);
    expect(login.view().state).toBe('waiting');
    const program = await rawGet(url, { host: `127.0.0.1:${login.port}` });
    expect(program.status).toBe(200);
    await expect(login.done).rejects.toMatchObject({ code: 'auth_cancelled' });
  });

  it('a sign-in through the service is one "Signed in as" entry in the activity, not two', async () => {
    const service = createTestLabService(fixture.fake, fixture.home.paths, {
      env: { CODEX_LAB_CALLBACK_PORT: '0' },
    });
    try {
      setNextLogin(fixture.fake, 'alice@example.com');
      const started = await service.startLogin({ name: 'solo', popup: false });
      if (!started.ok) throw new Error(started.message);
      expect((await visit(started.value.authorizeUrl)).status).toBe(200);
      await expect
        .poll(async () => {
          const state = await service.getState();
          return state.activity.filter((entry) => entry.message.startsWith('Signed in')).length;
        })
        .toBe(1);
      // The sign-in's last step, the usage read, has landed: nothing more is coming.
      await expect
        .poll(async () => (await service.getState()).profiles[0]?.quota.primary ?? null)
        .not.toBeNull();
      const state = await service.getState();
      expect(
        state.activity
          .filter((entry) => entry.message.startsWith('Signed in'))
          .map((e) => e.message),
      ).toEqual(['Signed in as solo.']);
    } finally {
      await service.stop();
    }
  });

  it('closes an abandoned sign-in listener as soon as a new sign-in starts', async () => {
    const service = createTestLabService(fixture.fake, fixture.home.paths, {
      env: { CODEX_LAB_CALLBACK_PORT: '0' },
    });
    const first = await service.startLogin({ name: null, popup: false });
    const second = await service.startLogin({ name: null, popup: false });
    expect(first.ok && second.ok).toBe(true);
    if (!first.ok) return;
    const redirect = new URL(new URL(first.value.authorizeUrl).searchParams.get('redirect_uri')!);
    const port = Number(redirect.port);
    // The first listener is gone: its port refuses connections.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    await service.stop();
  });
});

/** Whether this machine's name resolves to a loopback address (false when it does not resolve). */
async function loopbackName(): Promise<boolean> {
  const found = await lookup(hostname()).catch(() => null);
  return found !== null && /^(127\.|::1$)/.test(found.address);
}

const hostnameIsLoopback = await loopbackName();

describe('serve --host', () => {
  it('warns loudly when the address is not loopback, once the router listens there', async () => {
    const home = tempFolder('codex-lab-home-');
    // The router listens on every interface for a moment (a free port), then stops.
    const serve = await startServe(home, {}, ['--host', '0.0.0.0']);
    try {
      await vi.waitFor(() =>
        expect(serve.output()).toContain('WARNING: --host 0.0.0.0 exposes the router'),
      );
    } finally {
      await stopServes([serve]);
    }
    // An address refused before listening is said alone: nothing is exposed, nothing to warn of.
    const refused = await runCodexLab(['serve', '--host', '0.0.0.0', '--port', 'nope'], { home });
    expect(refused.code).toBe(2);
    expect(refused.stderr).not.toContain('WARNING');
    const quiet = await runCodexLab(['serve', '--host', '127.0.0.1', '--port', 'nope'], { home });
    expect(quiet.stderr).not.toContain('WARNING');
  });

  it.skipIf(!hostnameIsLoopback)(
    'does not warn for a host name that resolves to a loopback address',
    async () => {
      const home = tempFolder('codex-lab-home-');
      // This machine's own name, when it resolves to loopback (as /etc/hosts often says): the
      // router listens on loopback only, so there is nothing exposed to warn of.
      const serve = await startServe(home, {}, ['--host', hostname()]);
      try {
        expect(serve.url).toMatch(/^http:\/\/(127\.0\.0\.1|\[::1\]):/);
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(serve.output()).not.toContain('WARNING');
      } finally {
        await stopServes([serve]);
      }
    },
  );

  it('says in one sentence that it cannot listen on the host or port asked for, never with a stack trace', async () => {
    const home = tempFolder('codex-lab-home-');
    /**
     * The one line it says: no exposure warning for an address it does not listen on. A host
     * given that cannot be listened on is the user's input (exit 2); a port taken, not (exit 1).
     */
    const failureOf = async (args: string[], env: Record<string, string> = {}, exit = 2) => {
      const run = await runCodexLab(['serve', ...args], { home, env });
      expect(run.code).toBe(exit);
      expect(run.stdout).toBe('');
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(run.stderr).not.toMatch(/ at |node:|Error:/);
      return lines.at(-1)!;
    };
    // 192.0.2.1 (TEST-NET-1) is never this machine's; a .invalid name never resolves (RFC 6761).
    expect(await failureOf(['--host', '192.0.2.1', '--port', '0'])).toBe(
      'codex-lab: 192.0.2.1 is not an address of this machine, so the Codex Lab router cannot listen there: give --host an address of this machine, or leave it out to listen on 127.0.0.1.',
    );
    expect(await failureOf(['--host', 'nowhere.invalid', '--port', '0'])).toMatch(
      /^codex-lab: nowhere\.invalid is not a host name this machine can resolve \(\w+\), so the Codex Lab router cannot listen there: give --host an address of this machine, or leave it out to listen on 127\.0\.0\.1\.$/,
    );
    expect(await failureOf(['--host', ' ', '--port', '0'])).toBe(
      'codex-lab: --host needs an address to listen on (127.0.0.1 keeps the router on this machine), not an empty value.',
    );
    // A port held by another program: the host and port asked for, and the way they were given.
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as AddressInfo).port;
    expect(await failureOf(['--host', 'localhost', '--port', String(port)], {}, 1)).toBe(
      `codex-lab: Port ${port} on localhost is already in use by another program, so the Codex Lab router cannot listen there: stop that program, or choose another with --port (0 picks a free one).`,
    );
    expect(await failureOf([], { CODEX_LAB_PORT: String(port) }, 1)).toBe(
      `codex-lab: Port ${port} on 127.0.0.1 is already in use by another program, so the Codex Lab router cannot listen there: stop that program, or set CODEX_LAB_PORT to a free port (or pass --port).`,
    );
  });
});
