/**
 * A change the router carries out even unanswered is tracked with its name in the user's words,
 * taken from the one table of operation words (`core/service/remote-lab.ts`): an interrupted
 * command says "the router still completes the rename" from it, and the sentence of a router that
 * stops answering ("while renaming alpha to work") comes from the same row.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteLab } from '../../core/service/remote-lab.ts';
import { routerChangesInFlight } from '../../core/service/router-changes.ts';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A router that takes every request and never answers it (until closed). */
async function silentRouter(): Promise<{ url: string; arrived: Promise<void> }> {
  let arrive = () => {};
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  server = createServer(() => arrive());
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrived };
}

describe('a change the router is carrying out', () => {
  it('is tracked with its name, and a router that stops answering is named with the same row', async () => {
    const router = await silentRouter();
    const remote = new RemoteLab({ url: router.url, token: 'x'.repeat(43) });
    const renaming = remote.renameProfile({ from: 'alpha', to: 'work' });
    await router.arrived;

    expect(routerChangesInFlight()).toEqual([
      { operation: 'renameProfile', url: router.url, what: 'rename' },
    ]);

    server!.closeAllConnections();
    const result = await renaming;
    expect(result).toMatchObject({ ok: false, code: 'router_unavailable' });
    expect(!result.ok && result.message).toContain('while renaming alpha to work');
    expect(routerChangesInFlight()).toEqual([]);
  });
});
