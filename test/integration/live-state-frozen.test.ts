/**
 * `list` and `usage` ask the running router for its live state within `liveLabState`'s timeout
 * (1.5 s), then show the files. A router that proves its identity and then never answers the
 * state request used to hold them for the client's 10 s socket timeout: the timeout covered only
 * discovery. It now covers the state call too.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliContext } from '../../core/cli/context.ts';
import { liveLabState } from '../../core/cli/live-state.ts';
import { labPaths } from '../../core/home/paths.ts';
import { loadOrCreateRouterToken } from '../../core/proxy/router-token.ts';
import { identityPath, identityProof } from '../../core/service/identity.ts';
import { writeRouterInfo } from '../../core/service/router-info.ts';
import { makeTempHome } from '../helpers/cli.ts';

let home: string;
let server: Server;
const held: ServerResponse[] = [];

beforeEach(async () => {
  home = await makeTempHome('codex-lab-live-state-frozen-');
});

afterEach(async () => {
  for (const response of held.splice(0)) response.destroy();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await rm(home, { recursive: true, force: true });
});

/** A router that proves it holds `token` and then never answers anything else. */
async function frozenAfterIdentity(token: string): Promise<number> {
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== identityPath) {
      held.push(response);
      return;
    }
    const port = (server.address() as AddressInfo).port;
    response.setHeader('content-type', 'application/json');
    response.end(
      JSON.stringify({
        app: 'codex-lab',
        version: '0.0.0',
        pid: process.pid,
        port,
        startedAt: new Date().toISOString(),
        home,
        host: 'serve',
        proof: identityProof(token, url.searchParams.get('nonce') ?? ''),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('liveLabState with a router that answers its identity and then nothing', () => {
  it('gives up within its timeout, so list shows the files at once', async () => {
    const paths = labPaths(home);
    const token = await loadOrCreateRouterToken(paths);
    const port = await frozenAfterIdentity(token);
    await writeRouterInfo(paths, { port, pid: process.pid, address: '127.0.0.1' });
    const context = { paths } as CliContext;

    const started = performance.now();
    const state = await liveLabState(context, 500);
    const waited = performance.now() - started;

    expect(state).toBeNull();
    expect(held.length).toBeGreaterThan(0); // it got past discovery and asked for the state
    expect(waited).toBeLessThan(3000);
  }, 20_000);
});
