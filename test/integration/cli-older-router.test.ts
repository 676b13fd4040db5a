/**
 * Today's CLI while an earlier version's router runs for the home (a tray app or `serve` left
 * running across an upgrade of the CLI). The router answers in its own version's shapes: its
 * state (recorded from the router of commit 638fa42) lacks the fields added since, and operations
 * whose answer has grown since (`pinRepo`, `refreshUsage`) answer `null`. `list`, `usage
 * --refresh`, `pin` and `unpin` used to end in a TypeError and its stack trace, after the router
 * had already carried out the pin; they now work as on a current router.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import { loadOrCreateRouterToken } from '../../core/proxy/router-token.ts';
import { identityPath, identityProof } from '../../core/service/identity.ts';
import { writeRouterInfo } from '../../core/service/router-info.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';

/** The state an earlier version's router (commit 638fa42) sent, as recorded from it. */
const recordedState: unknown = JSON.parse(
  readFileSync(join(import.meta.dirname, '../helpers/router-state-638fa42.json'), 'utf8'),
);

let home: string;
let fake: FakeChatGpt;
let server: Server | undefined;
/** The operations the older router was asked to carry out, in order. */
let operations: string[];

beforeEach(async () => {
  home = await makeTempHome('codex-lab-older-router-');
  fake = await startFakeChatGpt({
    accounts: [{ email: 'alice@example.com' }, { email: 'bob@example.com' }],
  });
  await seedProfiles(fake, home, [
    { name: 'alice', email: 'alice@example.com' },
    { name: 'office', email: 'bob@example.com' },
  ]);
  operations = [];
});

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

/**
 * An earlier version's router for `home`, holding its token: it proves its identity, sends the
 * recorded state, and answers every operation `{ ok: true, value: null }` as its version did.
 */
async function startOlderRouter(): Promise<void> {
  const paths = labPaths(home);
  const token = await loadOrCreateRouterToken(paths);
  const listening = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const port = (listening.address() as AddressInfo).port;
    response.setHeader('content-type', 'application/json');
    if (url.pathname === identityPath) {
      response.end(
        JSON.stringify({
          app: 'codex-lab',
          version: '0.1.0',
          pid: process.pid,
          port,
          startedAt: new Date().toISOString(),
          home,
          host: 'serve',
          proof: identityProof(token, url.searchParams.get('nonce') ?? ''),
        }),
      );
      return;
    }
    if (request.headers.authorization !== `Bearer ${token}`) {
      response.writeHead(401).end('{}');
      return;
    }
    if (request.method === 'GET' && url.pathname === '/lab/v1/state') {
      response.end(JSON.stringify(recordedState));
      return;
    }
    if (request.method === 'POST' && url.pathname.startsWith('/lab/v1/')) {
      request.resume();
      request.on('end', () => {
        operations.push(url.pathname.slice('/lab/v1/'.length));
        response.end(JSON.stringify({ ok: true, value: null }));
      });
      return;
    }
    response.writeHead(404).end('{}');
  });
  server = listening;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  const port = (listening.address() as AddressInfo).port;
  await writeRouterInfo(paths, { port, pid: process.pid, version: '0.1.0', host: 'serve' });
}

/** Runs today's CLI against the home, with the fake as its upstream. */
function run(args: string[]) {
  return runCodexLab(args, {
    home,
    env: {
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    },
  });
}

/** True when the output carries a JavaScript error or its stack instead of a sentence. */
function crashed(text: string): boolean {
  return /TypeError|\n\s+at .*\(/.test(text);
}

describe('the CLI while an earlier version’s router runs', () => {
  it('list shows the router’s profiles and pool', async () => {
    await startOlderRouter();
    const result = await run(['list']);
    expect(crashed(result.stderr), result.stderr.slice(-400)).toBe(false);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('alice');
    expect(result.stdout).toContain('office');
    expect(result.stdout).toMatch(/2 of 2 ready/);
  }, 30_000);

  it('usage --refresh asks the router to refresh and shows the table', async () => {
    await startOlderRouter();
    const result = await run(['usage', '--refresh']);
    expect(crashed(result.stderr), result.stderr.slice(-400)).toBe(false);
    expect(result.code).toBe(0);
    expect(operations).toEqual(['refreshUsage']);
    expect(result.stdout).toContain('office');
  }, 30_000);

  it('pin and unpin of a repository say what they did', async () => {
    await startOlderRouter();
    const repo = join(home, 'repo');
    await mkdir(repo);
    const pinned = await run(['pin', 'office', '--repo', repo]);
    expect(crashed(pinned.stderr), pinned.stderr.slice(-400)).toBe(false);
    expect(pinned.code).toBe(0);
    expect(pinned.stdout).toContain('office');
    // What the older router wrote for that pin, which `unpin` finds before asking it.
    const registryPath = join(home, 'auth-profiles.json');
    const registry = JSON.parse(await readFile(registryPath, 'utf8'));
    registry.pins.repos[await realpath(repo)] = {
      profile: 'office',
      allowFallback: false,
      createdAt: new Date().toISOString(),
    };
    await writeFile(registryPath, JSON.stringify(registry), { mode: 0o600 });
    const unpinned = await run(['unpin', '--repo', repo]);
    expect(crashed(unpinned.stderr), unpinned.stderr.slice(-400)).toBe(false);
    expect(unpinned.code).toBe(0);
    expect(operations).toEqual(['pinRepo', 'pinRepo']);
  }, 30_000);
});
