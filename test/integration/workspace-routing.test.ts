/**
 * Workspace routing through the router, as native Codex does it (docs/routing.md, "Workspace
 * routing"): each profile's `wham/accounts/check` entry decides where its turns go and with which
 * data-residency override, over HTTP, on the WebSocket handshake and for priming. Real LabService router,
 * the fake ChatGPT and a second loopback backend for a workspace's own origin.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { codexRequestHeaders } from '../helpers/codex-like-session.ts';
import { unstartedWeekly } from '../helpers/fake-windows.ts';
import { startTestRouter, type TestRouter } from '../helpers/lab-service.ts';

let router: TestRouter | undefined;
let workspaceBackend: Server | undefined;

afterEach(async () => {
  await router?.close();
  router = undefined;
  if (workspaceBackend) {
    workspaceBackend.closeAllConnections();
    await new Promise<void>((resolve) => workspaceBackend!.close(() => resolve()));
    workspaceBackend = undefined;
  }
});

/** One Codex turn through the router; answers the profile it went to. */
async function turn(current: TestRouter, session: string): Promise<string | null> {
  const response = await fetch(`${current.url}/backend-api/codex/responses`, {
    method: 'POST',
    headers: {
      ...codexRequestHeaders({ session, turn: 0, token: current.token }),
      // What a client might send: never passed on (the override is the account's).
      'x-openai-account-routing-override': 'us_cr',
    },
    body: JSON.stringify({
      model: 'gpt-6.2-sol',
      stream: true,
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
    }),
  });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  expect(text).toContain('response.completed');
  return response.headers.get('x-codex-lab-profile');
}

describe('workspace routing', () => {
  for (const webSocket of ['off', 'on'] as const) {
    it(`sends a residency workspace’s turns with its override, and a personal one’s without (WebSocket ${webSocket})`, async () => {
      router = await startTestRouter({
        homePrefix: 'codex-lab-workspace-',
        accounts: [
          { email: 'alpha@example.com', workspace: { routingOverride: 'us' } },
          { email: 'beta@example.com' },
        ],
        profiles: [
          ['alpha@example.com', 'alpha'],
          ['beta@example.com', 'beta'],
        ],
        env: { CODEX_LAB_UPSTREAM_WEBSOCKET: webSocket },
      });
      const { fake } = router;
      await router.service.setActive({ profile: 'alpha' });
      expect(await turn(router, 'w-alpha')).toBe('alpha');
      await router.service.setActive({ profile: 'beta' });
      expect(await turn(router, 'w-beta')).toBe('beta');
      const account = (email: string) => fake.account(email).accountId;
      const turns = fake.requests.filter(
        (request) => request.path === '/backend-api/codex/responses',
      );
      const override = (id: string) =>
        turns
          .filter((request) => request.headers['chatgpt-account-id'] === id)
          .map((request) => request.headers['x-openai-account-routing-override'] ?? null);
      expect(override(account('alpha@example.com'))).toEqual(['us']);
      expect(override(account('beta@example.com'))).toEqual([null]);
      if (webSocket === 'on') {
        expect(turns.map((request) => request.transport)).toEqual(['websocket', 'websocket']);
        expect(
          fake.upgrades.map((upgrade) => upgrade.headers['x-openai-account-routing-override']),
        ).toEqual(['us', undefined]);
      }
      // Each profile's workspace was read once, with its own credentials.
      const checks = fake.requests.filter(
        (request) => request.path === '/backend-api/wham/accounts/check',
      );
      expect(checks.map((request) => request.headers['chatgpt-account-id']).sort()).toEqual(
        [account('alpha@example.com'), account('beta@example.com')].sort(),
      );
    });
  }

  for (const webSocket of ['off', 'on'] as const) {
    it(`sends a workspace’s turns to its own backend origin, on the same API path (WebSocket ${webSocket})`, async () => {
      const seen: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
      const upgrades: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
      workspaceBackend = createServer((request, response) => {
        seen.push({ path: request.url ?? '', headers: request.headers });
        request.resume();
        request.on('end', () => {
          response.writeHead(200, { 'content-type': 'text/event-stream' });
          const id = 'resp_workspace';
          response.end(
            `event: response.created\ndata: ${JSON.stringify({ type: 'response.created', response: { id, status: 'in_progress', output: [] } })}\n\n` +
              `event: response.completed\ndata: ${JSON.stringify({ type: 'response.completed', response: { id, status: 'completed', output: [] } })}\n\n`,
          );
        });
      });
      // A backend without the WebSocket transport: the handshake is refused, HTTP takes the turn.
      workspaceBackend.on('upgrade', (request, socket) => {
        upgrades.push({ path: request.url ?? '', headers: request.headers });
        socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      });
      await new Promise<void>((resolve) => workspaceBackend!.listen(0, '127.0.0.1', resolve));
      const origin = `http://127.0.0.1:${(workspaceBackend.address() as AddressInfo).port}`;
      router = await startTestRouter({
        homePrefix: 'codex-lab-workspace-',
        accounts: [
          {
            email: 'alpha@example.com',
            workspace: { origin, routingOverride: 'us_cr' },
            // An idle weekly window, so the profile can be primed.
            primary: null,
            secondary: unstartedWeekly(Math.floor(Date.now() / 1000)),
          },
        ],
        profiles: [['alpha@example.com', 'alpha']],
        env: { CODEX_LAB_UPSTREAM_WEBSOCKET: webSocket },
      });
      expect(await turn(router, 'w-origin')).toBe('alpha');
      // Priming the profile sends its tiny turn the same way (one record of the workspace).
      const primed = await router.service.primeNow({ profile: 'alpha' });
      expect(primed.ok && primed.value.outcome).toBe('primed');
      expect(seen.map((request) => request.path)).toEqual([
        '/backend-api/codex/responses',
        '/backend-api/codex/responses',
      ]);
      for (const request of [...seen, ...upgrades]) {
        expect(request.headers['x-openai-account-routing-override']).toBe('us_cr');
        expect(request.headers['chatgpt-account-id']).toBe(
          router.fake.account('alpha@example.com').accountId,
        );
      }
      // The socket was asked of the workspace's origin, not the configured backend.
      expect(upgrades.map((request) => request.path)).toEqual(
        webSocket === 'on' ? ['/backend-api/codex/responses'] : [],
      );
      expect(router.fake.upgrades).toEqual([]);
      // Nothing of the turn reached the configured backend.
      expect(
        router.fake.requests.filter((request) => request.path === '/backend-api/codex/responses'),
      ).toEqual([]);
    });
  }

  it('keeps routing a profile whose workspace cannot be read to the configured backend', async () => {
    router = await startTestRouter({
      homePrefix: 'codex-lab-workspace-',
      accounts: [{ email: 'alpha@example.com', workspace: { origin: 'ftp://nowhere.example' } }],
      profiles: [['alpha@example.com', 'alpha']],
      captureLog: true,
    });
    expect(await turn(router, 'w-unreadable')).toBe('alpha');
    const turns = router.fake.requests.filter(
      (request) => request.path === '/backend-api/codex/responses',
    );
    expect(turns).toHaveLength(1);
    expect(turns[0]!.headers['x-openai-account-routing-override']).toBeUndefined();
    expect(router.logLines.join('\n')).toContain('workspace routing unknown');
  });
});
