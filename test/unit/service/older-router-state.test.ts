/**
 * The desktop app (and the CLI) attached to an older running `serve`: the state it sends lacks
 * fields added since, and the client fills them in where it decodes the state, so the tray and
 * the shared words read them as on a current router instead of throwing a TypeError.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { LabState } from '../../../core/service/contract.ts';
import { RemoteLab } from '../../../core/service/remote-lab.ts';
import { poolReadiness, routeWhyText } from '../../../core/format.ts';
import { buildTrayMenu, buildTrayTooltip } from '../../../electron/tray/tray-menu.ts';
import { olderRouterState, uiProfile } from '../../helpers/ui-lab-state.ts';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** An "older router": its state, and one event carrying it. */
async function olderRouter(): Promise<string> {
  const body = JSON.stringify(olderRouterState([uiProfile('work')]));
  const server = createServer((request, response) => {
    if (request.url === '/lab/v1/events') {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`event: state\ndata: ${body}\n\n`);
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(body);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

function expectDefaulted(state: LabState): void {
  expect(state.problems).toEqual([]);
  expect(state.pool.unread).toEqual([]);
  expect(state.pool.next.sameRepo).toBeNull();
  expect(state.requests[0]?.pinned).toBeNull();
  expect(state.requests[0]?.why).toBeNull();
  // A live session's reason, read from its route (the Live sessions panel says it).
  expect(state.sessions[0]?.why).toEqual({ rule: 'session', pin: null, left: [] });
  expect(() => routeWhyText(state.sessions[0]!.why)).not.toThrow();
  // What crashed: the tray and the shared pool words.
  const options = { now: Date.parse('2030-01-01T12:00:00Z'), timeZone: 'UTC' };
  expect(() => buildTrayMenu(state, options)).not.toThrow();
  expect(() => buildTrayTooltip(state, options)).not.toThrow();
  expect(() => poolReadiness(state.pool, state.profiles.length)).not.toThrow();
}

describe('an older router’s state, as a client decodes it', () => {
  it('getState fills in the fields added since', async () => {
    const remote = new RemoteLab({ url: await olderRouter(), token: 't' });
    expectDefaulted(await remote.getState());
  });

  it('so does every state of the event stream', async () => {
    const remote = new RemoteLab({ url: await olderRouter(), token: 't' });
    const state = await new Promise<LabState>((resolve) => {
      const stop = remote.subscribe((received) => {
        stop();
        resolve(received);
      });
    });
    expectDefaulted(state);
  });
});
