/**
 * The desktop app (and the CLI) attached to an older running `serve`: the state it sends lacks
 * fields added since, and the client fills them in where it decodes the state, so the tray and
 * the shared words read them as on a current router instead of throwing a TypeError.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LabState } from '../../../core/service/contract.ts';
import { RemoteLab } from '../../../core/service/remote-lab.ts';
import { poolReadiness, poolTotal, routeWhyText } from '../../../core/format.ts';
import { buildTrayMenu, buildTrayTooltip } from '../../../electron/tray/tray-menu.ts';
import { olderRouterState, uiProfile, uiRequest, uiState } from '../../helpers/ui-lab-state.ts';

/** The state the router of commit 638fa42 sent, as recorded from it (see cli-older-router). */
const recordedState: unknown = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../helpers/router-state-638fa42.json'), 'utf8'),
);

/**
 * Every field path of `value` (`pool.next.sameRepo`, `requests[].why`), objects' and arrays'
 * members included, so two states can be compared by shape alone.
 */
function fieldPaths(value: unknown, prefix = ''): Set<string> {
  const paths = new Set<string>();
  if (Array.isArray(value)) {
    for (const item of value) for (const path of fieldPaths(item, `${prefix}[]`)) paths.add(path);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, member] of Object.entries(value)) {
      paths.add(`${prefix}.${key}`);
      for (const path of fieldPaths(member, `${prefix}.${key}`)) paths.add(path);
    }
  }
  return paths;
}

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

/** An "older router" that sends `body` as its state and answers every operation `null`. */
async function routerSending(body: unknown): Promise<string> {
  const server = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    request.resume();
    response.end(JSON.stringify(request.method === 'POST' ? { ok: true, value: null } : body));
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

  it('a state recorded from an earlier version has, once decoded, every field today’s has', async () => {
    const remote = new RemoteLab({ url: await routerSending(recordedState), token: 't' });
    const state = await remote.getState();
    // Today's shape, with a member in each list and every optional pool list present.
    const today = uiState([uiProfile('work')], {
      requests: [uiRequest({ profile: 'work' })],
    });
    today.pool = { ...today.pool, keychainUnavailable: [] };
    const decoded = fieldPaths(state);
    const missing = [...fieldPaths(today)].filter(
      (path) =>
        !decoded.has(path) &&
        // A list or object the recorded router sent empty has no members to compare.
        decoded.has(path.slice(0, path.lastIndexOf('.')).replace(/\[\]$/, '')) &&
        // Optional fields a router leaves out when it has nothing to say.
        !/^\.profiles\[\]\.|^\.requests\[\]\.(account|minted)$/.test(path),
    );
    expect(missing).toEqual([]);
    // What `list` crashed on: the pool's total over its lists.
    expect(poolTotal(state.pool)).toBe(2);
    expect(poolReadiness(state.pool, state.profiles.length)).toBe('2 of 2 ready');
  });

  it('an older router’s null answers read as today’s answers', async () => {
    const remote = new RemoteLab({ url: await routerSending(recordedState), token: 't' });
    expect(await remote.pinRepo({ path: '/repo', profile: 'work' })).toEqual({
      ok: true,
      value: { replaced: null },
    });
    expect(await remote.pinSession({ sessionId: 's-1', profile: null })).toEqual({
      ok: true,
      value: { replaced: null },
    });
    expect(await remote.refreshUsage({ profile: null })).toEqual({
      ok: true,
      value: { refreshed: [], unread: [] },
    });
    expect(await remote.shutdown()).toEqual({ ok: true, value: { inFlight: 0, drainMs: 0 } });
    // Operations whose answer was always null stay null.
    expect(await remote.setActive({ profile: 'work' })).toEqual({ ok: true, value: null });
  });
});
