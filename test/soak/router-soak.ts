/**
 * Router soak (issue 9): 10,000 Codex turns at concurrency 64 through a real `codex-lab serve`
 * process against the fake ChatGPT with a fault mix — 5xx, 429 usage limits, 401s (an expired
 * access token, cured by a refresh), resets before headers and mid-stream, slow heads, slow
 * bodies, bad SSE, hangs and windows where the upstream is down. Reports router exits,
 * descriptors and sockets before and after, the router's heap over time (used bytes right after a
 * forced garbage collection, asked through the inspector it runs with on loopback), how every
 * request ended, and whether any refusal happened outside an outage window.
 *
 *   node test/soak/router-soak.ts [requests=10000] [concurrency=64]
 *
 * Not part of `npm test` (it runs for minutes); figures go in docs/testing.md.
 */
import { spawn } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, fetch } from 'undici';
import { labPaths } from '../../core/home/paths.ts';
import type { FakeFailure } from '../fakes/accounts.ts';
import { handleBackendRequest } from '../fakes/fake-backend.ts';
import { startFakeChatGpt, type FakeHandler } from '../fakes/fake-chatgpt.ts';
import { expireAccessTokens, handleIssuerRequest } from '../fakes/fake-issuer.ts';
import { codexTurnBody, signInProfiles } from '../helpers/lab-service.ts';

const total = Number(process.argv[2] ?? 10_000);
const concurrency = Number(process.argv[3] ?? 64);
const repoRoot = resolve(import.meta.dirname, '..', '..');
const emails = ['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com'];

/** Outage windows: 1.5 s down every 15 s. */
const downEveryMs = 15_000;
const downForMs = 1_500;
const startedAt = Date.now();
const isDown = (at: number) => (at - startedAt) % downEveryMs > downEveryMs - downForMs;

const faults: FakeHandler = async (_fake, request, response) => {
  if (!(request.url ?? '').startsWith('/backend-api/codex/responses')) return false;
  if (isDown(Date.now())) {
    request.socket.destroy();
    return true;
  }
  const roll = Math.random();
  if (roll < 0.02) {
    request.socket.destroy(); // reset before headers
    return true;
  }
  if (roll < 0.04) {
    await new Promise((done) => setTimeout(done, 1_000 + Math.random() * 1_000)); // slow head
    return false;
  }
  if (roll < 0.065) {
    // A slow body: the head at once, then every event 50–250 ms after the one before.
    slowBody(response);
    return false;
  }
  if (roll < 0.075) {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.end('data: {not json\n\nevent: ???\n\n'); // bad SSE
    return true;
  }
  if (roll < 0.08) {
    await new Promise((done) => setTimeout(done, 4_000)); // a hang, then the upstream gives up
    request.socket.destroy();
    return true;
  }
  return false;
};

/** Delays every write of `response` (after sending its head at once), keeping their order. */
function slowBody(response: ServerResponse): void {
  const writeHead = response.writeHead.bind(response) as (...args: unknown[]) => ServerResponse;
  const write = response.write.bind(response) as (...args: unknown[]) => boolean;
  const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
  let chain = Promise.resolve();
  const later = (action: () => void) => {
    chain = chain
      .then(() => new Promise((done) => setTimeout(done, 50 + Math.random() * 200)))
      .then(() => {
        if (!response.destroyed) action();
      });
  };
  Object.assign(response, {
    writeHead: (...args: unknown[]) => {
      writeHead(...args);
      response.flushHeaders();
      return response;
    },
    write: (...args: unknown[]) => {
      later(() => write(...args));
      return true;
    },
    end: (...args: unknown[]) => {
      later(() => end(...args));
      return response;
    },
  });
}

const fake = await startFakeChatGpt({
  accounts: emails.map((email) => ({ email, usagePerTurn: 0 })),
  handlers: [handleIssuerRequest, faults, handleBackendRequest],
});
const home = await mkdtemp(join(tmpdir(), 'codex-lab-soak-'));
await signInProfiles(
  fake,
  labPaths(home),
  emails.map((email) => [email, email.split('@')[0]!] as const),
);

// Account-level faults the fake already speaks: 5xx, 429 usage limits, mid-stream resets, and
// 401s the way the real upstream gives them: the access token in use has expired, so it answers
// 401 until the router refreshes (the fake's scripted `unauthorized` failure would also refuse the
// fresh token, which the real upstream does only for an account that lost access).
const accountFaults: Array<FakeFailure | 'expire_access_token'> = [
  { kind: 'server_error' },
  { kind: 'server_error', status: 502 },
  { kind: 'usage_limit', resetsInSeconds: 2 },
  'expire_access_token',
  { kind: 'reset_mid_stream' },
];
const sprinkle = setInterval(() => {
  const email = emails[Math.floor(Math.random() * emails.length)]!;
  const fault = accountFaults[Math.floor(Math.random() * accountFaults.length)]!;
  if (fault === 'expire_access_token') expireAccessTokens(fake, email);
  else fake.account(email).failures.push(fault);
}, 40);

const router = spawn(
  process.execPath,
  // The inspector (loopback, ephemeral port) lets the soak force a collection and read the heap.
  ['--inspect=127.0.0.1:0', join(repoRoot, 'bin/codex-lab.mjs'), 'serve', '--port', '0'],
  {
    cwd: repoRoot,
    env: {
      ...process.env,
      CODEX_LAB_HOME: home,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
let routerExit: number | string | null = null;
router.on('exit', (code, signal) => (routerExit = code ?? signal));
const url = await new Promise<string>((done, fail) => {
  let out = '';
  router.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    const match = /listening on (http:\/\/\S+)/.exec(out);
    if (match) done(match[1]!);
  });
  router.on('exit', () => fail(new Error('router exited before listening')));
});
const token = (await readFile(labPaths(home).routerToken, 'utf8')).trim();

/** The router's inspector: `HeapProfiler.collectGarbage`, then `Runtime.getHeapUsage`. */
const inspectorUrl = await new Promise<string>((done, fail) => {
  let err = '';
  const check = () => {
    const match = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/\S+)/.exec(err);
    if (match) done(match[1]!);
  };
  router.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    check();
  });
  setTimeout(() => fail(new Error(`no inspector address in:\n${err}`)), 10_000);
  check();
});
const inspector = new WebSocket(inspectorUrl);
await new Promise((done, fail) => {
  inspector.addEventListener('open', done, { once: true });
  inspector.addEventListener('error', fail, { once: true });
});
let inspectorId = 0;
function inspect(method: string): Promise<Record<string, unknown>> {
  const id = (inspectorId += 1);
  inspector.send(JSON.stringify({ id, method }));
  return new Promise((done) => {
    const onMessage = (event: MessageEvent) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: object };
      if (message.id !== id) return;
      inspector.removeEventListener('message', onMessage);
      done((message.result ?? {}) as Record<string, unknown>);
    };
    inspector.addEventListener('message', onMessage);
  });
}
/** The router's used heap in MB right after a full collection. */
async function heapAfterGc(): Promise<number> {
  await inspect('HeapProfiler.collectGarbage');
  const usage = await inspect('Runtime.getHeapUsage');
  return Math.round((Number(usage['usedSize']) / 2 ** 20) * 10) / 10;
}

async function descriptors(): Promise<{ fds: number; sockets: number; rssMb: number }> {
  const dir = `/proc/${router.pid}/fd`;
  let fds = 0;
  let sockets = 0;
  for (const fd of await readdir(dir)) {
    fds += 1;
    const { readlink } = await import('node:fs/promises');
    if ((await readlink(join(dir, fd)).catch(() => '')).startsWith('socket:')) sockets += 1;
  }
  const status = await readFile(`/proc/${router.pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { fds, sockets, rssMb: Math.round(rssKb / 1024) };
}

const outcomes = {
  complete: 0,
  cleanError: 0,
  upstreamCutPassedThrough: 0,
  dirty: 0,
  refusedOutsideOutage: 0,
  /** Of the clean errors: every account was tried and failed this request. */
  everyAccountFailedThisRequest: 0,
};
const refusalCodes = new Map<string, number>();
const refusals: Array<{ sentAtMsInCycle: number; ms: number; message: string }> = [];
// The clients' own connections, closed at the end so that only the router's leftovers count.
const clients = new Agent({ connections: concurrency });
const before = await descriptors();
const memory: number[] = [before.rssMb];
const heap: number[] = [await heapAfterGc()];
let next = 0;

async function oneTurn(index: number): Promise<void> {
  const sent = Date.now();
  try {
    const answer = await fetch(`${url}/backend-api/codex/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(codexTurnBody({ session: `soak-${index % 200}` })),
      signal: AbortSignal.timeout(30_000),
      dispatcher: clients,
    });
    let text = '';
    try {
      text = await answer.text();
    } catch {
      // The upstream died mid-stream and the router passed the cut on (Codex retries the turn).
      outcomes.upstreamCutPassedThrough += 1;
      return;
    }
    if (answer.status === 200) {
      if (text.includes('response.completed')) outcomes.complete += 1;
      else outcomes.upstreamCutPassedThrough += 1;
      return;
    }
    let code = 'unparsable';
    let message = '';
    try {
      const error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
      code = error?.code ?? 'no-code';
      message = error?.message ?? '';
      outcomes.cleanError += 1;
    } catch {
      if (/^\s*</.test(text) || text === '') outcomes.cleanError += 1;
      else outcomes.dirty += 1;
    }
    // A refusal by the router itself (not an upstream answer passed through).
    const refused = answer.status === 503 || (answer.status === 502 && code === 'upstream_error');
    // The router tried every account and each one's upstream answer failed this very request
    // (injected faults on all four in a row): a clean error after real attempts, not a refusal.
    const everyAccountFailed =
      /^(?:[^:]*: )+No eligible profile: (?:\w+ failed on this request(?:; |\.$))+$/.test(message);
    if (refused && everyAccountFailed) {
      outcomes.everyAccountFailedThisRequest += 1;
    } else if (refused && !isDown(sent) && !isDown(Date.now())) {
      outcomes.refusedOutsideOutage += 1;
      refusalCodes.set(code, (refusalCodes.get(code) ?? 0) + 1);
      // Where in the 15 s cycle it came (the window is its last 1.5 s), and what the router said.
      if (refusals.length < 20) {
        refusals.push({
          sentAtMsInCycle: (sent - startedAt) % downEveryMs,
          ms: Date.now() - sent,
          message: message.slice(0, 300),
        });
      }
    }
  } catch {
    outcomes.dirty += 1;
  }
}

const lanes = Array.from({ length: concurrency }, async () => {
  for (;;) {
    const index = next;
    next += 1;
    if (index >= total) return;
    await oneTurn(index);
    if (index % 1000 === 0 && index > 0) {
      memory.push((await descriptors()).rssMb);
      heap.push(await heapAfterGc());
    }
  }
});
await Promise.all(lanes);
clearInterval(sprinkle);
// Idle keep-alive connections close on their own (the fake's after 5 s); then count what is left.
await clients.close();
await new Promise((done) => setTimeout(done, 7_000));
const after = await descriptors();
memory.push(after.rssMb);
heap.push(await heapAfterGc());
inspector.close();

// Profiles the router marked as needing a new sign-in (none should: every fault heals).
const health = JSON.parse(await readFile(labPaths(home).health, 'utf8').catch(() => '{}')) as {
  profiles?: Record<string, { status?: string; code?: string }>;
};
const needSignIn = Object.entries(health.profiles ?? {})
  .filter(([, entry]) => entry.status === 'auth_error')
  .map(([name, entry]) => `${name}: ${entry.code}`);

const report = {
  requests: total,
  concurrency,
  seconds: Math.round((Date.now() - startedAt) / 1000),
  routerExits: routerExit === null ? 0 : 1,
  needSignIn,
  outcomes,
  refusalCodes: Object.fromEntries(refusalCodes),
  refusals,
  descriptors: { before, after },
  // Used heap after a forced collection: at the start, every 1,000 turns, and once idle at the end.
  heapMbAfterGcOverTime: heap,
  rssMbOverTime: memory,
};
console.log(JSON.stringify(report, null, 2));
router.kill('SIGTERM');
await new Promise((done) => router.on('exit', done));
await fake.close();
await rm(home, { recursive: true, force: true });
