// The long-session hot path with realistic bodies: 64 concurrent Codex sessions, each request
// extending its session as Codex 0.171 does — the whole history re-sent, plus the items the last
// response added (read from its `response.output_item.done` events) and a new user message — in
// Codex's request shape (docs/codex-0.169-request.json: the same headers, the
// `x-codex-turn-metadata` Codex 0.171 sends (codexTurnMetadata) with a new turn id per request,
// the body's fields in Codex's order, the tools as an `additional_tools` input item, reasoning
// items with this account's ciphertext),
// starting at ~40 KB and at ~300 KB. Four proxies run side by side, each in its own process: a
// bare undici pass-through (the floor), the router over HTTP with zstd request bodies off, the
// router over HTTP with zstd on, and the router with the Responses-over-WebSocket upstream on
// (CODEX_LAB_UPSTREAM_WEBSOCKET=on: after a session's first turn, only the new items go up).
// Each repetition runs every (size, proxy) pair once, in a rotating order (sessions as below), so
// the machine's drift hits all alike; the report gives min / median / max over the repetitions
// of each ratio against the bare proxy measured in the same repetition: throughput, and CPU per
// request (from /proc, Linux only). The CPU is also split by thread (/proc/PID/task): the event
// loop, libuv's thread pool (where zlib's asynchronous zstd runs) and V8's helper threads.
//
// Sessions have `--turns` turns (default four): each of the 64 streams of a
// (size, proxy) pair carries its session on from one run of that pair to the next (the warm-up
// round included) and starts a new one after the last turn, so a fraction 1 / turns of the
// requests is a session's first turn (a new upstream WebSocket and a full frame on that path).
// Codex sessions are long: `--turns 64` measures their steady state, the default short sessions
// the cost of starting them. `--baseline DIR` adds the router of another checkout (a git worktree
// of an earlier commit, its CLI built there) as variants of the same run, over HTTP (zstd off and
// on) and over the WebSocket. The routers run the bundled CLI, as users run it: this checkout's is built first
// (`node scripts/build-cli.mjs`; the TypeScript source would load Node's type stripper too, a
// larger heap for every garbage collection to walk).
//
//   node bench/proxy-bodies.mjs [--repetitions N] [--requests N] [--turns N] [--baseline DIR]
//                               [--sizes 40,300] [--tls] [--cpu-prof DIR] [--no-write]
//
// `--tls` serves the fake over HTTPS and WSS (its test CA trusted by every proxy), as the real
// upstream is: each proxy then pays TLS, and the WebSocket upstream a TLS handshake per session's
// socket, as it does on the user's machine. (Results go to their own section.)
// `--cpu-prof DIR` runs this checkout's routers under `node --cpu-prof` and leaves their profiles
// in DIR (a profile slows what it watches: read it for where the time goes, not for the ratios).
// `--sizes` measures only the listed body sizes (of 40 and 300 KB).
//
//   git worktree add --detach ../before COMMIT && ln -s "$PWD/node_modules" ../before/
//   (cd ../before && node scripts/build-cli.mjs)
//   node bench/proxy-bodies.mjs --turns 64 --requests 512 --baseline ../before
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { mintEncryptedContent } from '../test/fakes/ciphertext.ts';
import { fakeTlsCaFile, startFakeChatGpt, trustFakeTlsCa } from '../test/fakes/fake-chatgpt.ts';
import { enableResponsesWebSocket } from '../test/fakes/fake-responses-websocket.ts';
import {
  codexRequestHeaders,
  codexToolsItem,
  codexTurnMetadata,
  createProse,
} from '../test/helpers/codex-like-session.ts';
import { percentile, readProcessStats, updateSection } from './helpers/measure.mjs';
import { benchOptions } from './helpers/options.ts';
import { seedBenchLab, startBareProxy, startRouter } from './helpers/router.mjs';

const options = benchOptions(
  'node bench/proxy-bodies.mjs [--repetitions N] [--requests N] [--turns N] [--baseline DIR] [--sizes 40,300] [--tls] [--cpu-prof DIR] [--no-write]',
  {
    repetitions: 5,
    requests: 256,
    // Four turns by default: the short sessions this bench measured before it took `--turns`.
    turns: 4,
    baseline: null,
    sizes: '40,300',
    tls: false,
    'cpu-prof': null,
    'no-write': false,
  },
);
const repetitions = options.repetitions;
const requestsPerRun = options.requests;
const concurrency = 64;
const defaultTurns = 4;
const turnsPerSession = options.turns;
const baselineRoot = options.baseline === null ? null : resolve(options.baseline);
const profileDir = options['cpu-prof'] === null ? null : resolve(options['cpu-prof']);
const writeResults = !options['no-write'] && profileDir === null;
const repoRoot = resolve(import.meta.dirname, '..');
const sizes = options.sizes.split(',').map(Number);
if (sizes.some((kb) => kb !== 40 && kb !== 300)) {
  process.stderr.write('--sizes takes 40, 300 or both (40,300).\n');
  process.exit(2);
}
if (baselineRoot !== null && !existsSync(join(baselineRoot, 'dist/cli/cli.mjs'))) {
  throw new Error(`${baselineRoot} has no built CLI: run node scripts/build-cli.mjs there first.`);
}
execFileSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: repoRoot, stdio: 'inherit' });
const loadAtStart = loadavg()
  .map((value) => value.toFixed(1))
  .join(', ');

const overTls = options.tls;
// This process seeds the profiles at the fake's issuer: it trusts the test CA too.
if (overTls) trustFakeTlsCa();
const fake = await startFakeChatGpt({
  tls: overTls,
  accounts: [
    {
      email: 'bodies-a@example.com',
      usagePerTurn: 0,
      reasoning: true,
      reply: 'I changed the handler to validate the request body first; the tests pass now.',
    },
  ],
});
const socketSide = enableResponsesWebSocket(fake);
// A baseline router may predate the Responses Lite marker in WebSocket frames: let its frames
// through rather than measure its fallbacks.
if (baselineRoot !== null) fake.requireLiteMarker = false;
const account = fake.account('bodies-a@example.com');

// Text with the entropy of prose and code (deterministic), so zstd's cost and ratio are those of
// a real turn rather than of repeated text.
const text = createProse();

/** Codex 0.171's first input item: the tools, as `additional_tools`. */
const toolsItem = (count) =>
  codexToolsItem(text, { tools: count, description: 400, fields: 6, fieldDescription: 100 });

/**
 * A session's history of ~`kb` KB, serialized item by item: the tools, then turns of a user
 * message, a reasoning item sealed for this account, a tool call and its output, and the answer.
 */
function historyOf(kb) {
  const items = [toolsItem(kb >= 300 ? 40 : 14)];
  let size = JSON.stringify(items[0]).length;
  for (let turn = 0; size < kb * 1024; turn += 1) {
    const reasoningId = `rs_history_${kb}_${turn}`;
    const turnItems = [
      {
        type: 'message',
        role: 'user',
        content: [{ type: 'input_text', text: `Turn ${turn}: ${text(200)}` }],
      },
      {
        type: 'reasoning',
        id: reasoningId,
        summary: [],
        encrypted_content: mintEncryptedContent(fake, account, reasoningId),
      },
      {
        type: 'function_call',
        name: 'exec_command',
        arguments: JSON.stringify({ cmd: `rg handler src/module_${turn}.ts` }),
        call_id: `call_${turn}`,
      },
      { type: 'function_call_output', call_id: `call_${turn}`, output: text(6000) },
      {
        type: 'message',
        role: 'assistant',
        content: [{ type: 'output_text', text: text(300) }],
      },
    ];
    for (const item of turnItems) size += JSON.stringify(item).length + 1;
    items.push(...turnItems);
  }
  return items.map((item) => JSON.stringify(item)).join(',');
}

const histories = new Map(sizes.map((kb) => [kb, historyOf(kb)]));

/** One Codex session: its request bodies and headers, turn by turn. */
function codexSession(session, kb) {
  let input = histories.get(kb);
  let turn = 0;
  return {
    /** The next request: the body (Codex's field order) and Codex's headers. */
    request() {
      // Codex 0.171's turn metadata, in the layout it sends (a new turn id per request).
      const metadata = codexTurnMetadata({ session, turn });
      const body = `{"model":"gpt-6.2-sol","stream":true,"input":[${input}],"tool_choice":"auto","parallel_tool_calls":true,"reasoning":{"effort":"medium","context":"all_turns"},"store":false,"include":["reasoning.encrypted_content"],"prompt_cache_key":"${session}","text":{"verbosity":"low"},"client_metadata":${JSON.stringify({ session_id: session, turn_id: `turn-${turn}`, 'x-codex-turn-metadata': metadata })}}`;
      // Codex's headers; each proxy's own credentials are added per endpoint.
      const { authorization: _none, ...headers } = codexRequestHeaders({
        session,
        turn,
        token: '',
      });
      return { body, headers };
    },
    /** The answer came: its output items and the next user message extend the input. */
    answered(outputItems) {
      turn += 1;
      const added = [
        ...outputItems,
        {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: `Turn ${turn}: ${text(1500)}` }],
        },
      ];
      input += `,${added.map((item) => JSON.stringify(item)).join(',')}`;
    },
  };
}

/** The items a streamed answer added (its `response.output_item.done` events), as Codex reads them. */
function outputItemsOf(answer) {
  const items = [];
  for (const block of answer.split('\n\n')) {
    const data = block.split('\n').find((line) => line.startsWith('data: '));
    if (!data || !data.includes('"response.output_item.done"')) continue;
    items.push(JSON.parse(data.slice(6)).item);
  }
  return items;
}

let sessionNumber = 0;
/** A new session's id (a fresh one for every session of the whole bench). */
function newSessionId() {
  sessionNumber += 1;
  return `019a${sessionNumber.toString(16).padStart(8, '0')}-7c1-b961-fbcd4ef19122`;
}

/**
 * The 64 streams of one (size, proxy) pair: each carries its session on across the pair's runs
 * and starts a new one after `turnsPerSession` turns.
 */
function streamsOf() {
  return Array.from({ length: concurrency }, () => ({ session: null, turns: 0 }));
}

async function run(endpoint, kb, streams, count) {
  const dispatcher = new Agent({ connections: concurrency, pipelining: 1 });
  let sent = 0;
  let failures = 0;
  let bytesUp = 0;
  let firstTurns = 0;
  const started = performance.now();
  await Promise.all(
    streams.map(async (stream) => {
      for (;;) {
        if (sent++ >= count) return;
        if (stream.session === null || stream.turns >= turnsPerSession) {
          // A new session: its first turn goes in full, the next ones extend it.
          stream.session = codexSession(newSessionId(), kb);
          stream.turns = 0;
        }
        if (stream.turns === 0) firstTurns += 1;
        stream.turns += 1;
        const { body, headers } = stream.session.request();
        bytesUp += Buffer.byteLength(body);
        const response = await request(`${endpoint.url}/backend-api/codex/responses`, {
          method: 'POST',
          dispatcher,
          headers: { ...headers, ...endpoint.headers },
          body,
        });
        let answer = '';
        for await (const chunk of response.body) answer += chunk;
        if (response.statusCode !== 200 || !answer.includes('response.completed')) {
          failures += 1;
          // The session's history no longer matches the upstream's: the next request starts anew.
          stream.session = null;
          return;
        }
        stream.session.answered(outputItemsOf(answer));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await dispatcher.close();
  const incremental = socketSide.turns.filter((turn) => turn.previousResponseId).length;
  const frames = socketSide.turns.length;
  // The fake keeps what it received for tests; a benchmark only needs the counts.
  fake.requests.length = 0;
  socketSide.turns.length = 0;
  return {
    rps: count / seconds,
    failures,
    meanBody: bytesUp / count,
    frames,
    incremental,
    firstTurns,
  };
}

/**
 * CPU seconds so far of each thread group of a process, from /proc/PID/task: the main thread
 * (the event loop), libuv's thread pool (`libuv-worker`) and the rest (V8's platform workers:
 * garbage collection, compilation).
 */
function readThreadCpu(pid) {
  const groups = { loop: 0, pool: 0, other: 0 };
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
      if (tid === String(pid)) groups.loop += seconds;
      else if (name.startsWith('libuv-worker')) groups.pool += seconds;
      else groups.other += seconds;
    }
  } catch {
    return undefined;
  }
  return groups;
}

const upstreamOrigin = new URL(fake.backendUrl).origin;
const labs = [];
const routers = [];
/**
 * A router variant with its own lab home: `env` names its transport (the WebSocket upstream is on
 * by default); `root` is the checkout whose `codex-lab` runs (this one, or `--baseline`).
 */
async function routerEndpoint(env, root) {
  const seeded = await seedBenchLab(fake, 'codex-lab-bodies-', [
    { name: 'a', email: 'bodies-a@example.com' },
  ]);
  labs.push(seeded);
  const nodeArgs =
    profileDir !== null && root === repoRoot ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const router = await startRouter({ ...seeded.env, ...env }, nodeArgs, root);
  routers.push(router);
  return {
    url: router.url,
    pid: router.pid,
    headers: { authorization: `Bearer ${await seeded.routerToken()}` },
    profile: seeded.seeded[0],
  };
}
const overHttp = { CODEX_LAB_UPSTREAM_WEBSOCKET: 'off' };
const overWebSocket = { CODEX_LAB_UPSTREAM_ZSTD: 'on', CODEX_LAB_UPSTREAM_WEBSOCKET: 'on' };
/** The same endpoint for every size (HTTP: no state outlives a request but the session table). */
const shared = async (env, root) => {
  const endpoint = await routerEndpoint(env, root);
  return new Map(sizes.map((kb) => [kb, endpoint]));
};
/**
 * A router per size for the WebSocket upstream: one router holds at most 64 upstream sockets, so
 * the other size's 64 sessions would close this size's sockets between its runs.
 */
const perSize = async (env, root) =>
  new Map(await Promise.all(sizes.map(async (kb) => [kb, await routerEndpoint(env, root)])));

const bare = await startBareProxy(
  upstreamOrigin,
  concurrency * 2,
  overTls ? { NODE_EXTRA_CA_CERTS: fakeTlsCaFile } : {},
);
const plain = await shared({ ...overHttp, CODEX_LAB_UPSTREAM_ZSTD: 'off' }, repoRoot);
const { profile } = plain.get(sizes[0]);
const bareEndpoint = {
  url: bare.url,
  pid: bare.pid,
  headers: {
    authorization: `Bearer ${profile.accessToken}`,
    'chatgpt-account-id': profile.accountId,
  },
};
const proxies = [
  { name: 'bare', endpoints: new Map(sizes.map((kb) => [kb, bareEndpoint])) },
  { name: 'router, zstd off', endpoints: plain },
  {
    name: 'router, zstd on',
    endpoints: await shared({ ...overHttp, CODEX_LAB_UPSTREAM_ZSTD: 'on' }, repoRoot),
  },
  {
    name: 'router, WebSocket on',
    webSocket: true,
    endpoints: await perSize(overWebSocket, repoRoot),
  },
];
if (baselineRoot !== null) {
  proxies.push(
    {
      name: 'baseline router, zstd off',
      endpoints: await shared({ ...overHttp, CODEX_LAB_UPSTREAM_ZSTD: 'off' }, baselineRoot),
    },
    {
      name: 'baseline router, zstd on',
      endpoints: await shared({ ...overHttp, CODEX_LAB_UPSTREAM_ZSTD: 'on' }, baselineRoot),
    },
    {
      name: 'baseline router, WebSocket on',
      webSocket: true,
      endpoints: await perSize(overWebSocket, baselineRoot),
    },
  );
}

/** Per (size, proxy): throughput, CPU seconds per request (whole process, and per thread group). */
const results = new Map();
const key = (kb, name) => `${kb}:${name}`;
let failures = 0;
const bodyBytes = new Map(sizes.map((kb) => [kb, { bytes: 0, requests: 0 }]));
const frames = new Map();
let firstTurns = 0;
let measuredRequests = 0;
// Each pair's 64 streams, carried on from run to run.
const streams = new Map();
try {
  for (let repetition = -1; repetition < repetitions; repetition += 1) {
    const pairs = sizes.flatMap((kb) => proxies.map((proxy) => ({ kb, proxy })));
    const offset = repetition + 1;
    const order = pairs.map((_, index) => pairs[(index + offset) % pairs.length]);
    for (const { kb, proxy } of order) {
      const count = repetition < 0 ? concurrency * 2 : requestsPerRun;
      const endpoint = proxy.endpoints.get(kb);
      if (!streams.has(key(kb, proxy.name))) streams.set(key(kb, proxy.name), streamsOf());
      const before = readProcessStats(endpoint.pid);
      const threadsBefore = readThreadCpu(endpoint.pid);
      const result = await run(endpoint, kb, streams.get(key(kb, proxy.name)), count);
      const after = readProcessStats(endpoint.pid);
      const threadsAfter = readThreadCpu(endpoint.pid);
      if (repetition < 0) continue;
      if (proxy.webSocket) {
        const counted = frames.get(proxy.name) ?? { all: 0, incremental: 0, requests: 0 };
        counted.all += result.frames;
        counted.incremental += result.incremental;
        counted.requests += count;
        frames.set(proxy.name, counted);
      }
      failures += result.failures;
      firstTurns += result.firstTurns;
      measuredRequests += count;
      bodyBytes.get(kb).bytes += result.meanBody * count;
      bodyBytes.get(kb).requests += count;
      const entry = results.get(key(kb, proxy.name)) ?? {
        rps: [],
        cpu: [],
        loop: [],
        pool: [],
        other: [],
      };
      entry.rps.push(result.rps);
      entry.cpu.push(before && after ? (after.cpuSeconds - before.cpuSeconds) / count : NaN);
      for (const group of ['loop', 'pool', 'other']) {
        entry[group].push(
          threadsBefore && threadsAfter
            ? (threadsAfter[group] - threadsBefore[group]) / count
            : NaN,
        );
      }
      results.set(key(kb, proxy.name), entry);
    }
  }
} finally {
  for (const router of routers) await router.close();
  await bare.close();
  await fake.close();
  for (const { root } of labs) await rm(root, { recursive: true, force: true });
}

const format = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const range = (values, digits = 2) =>
  `${format(Math.min(...values), digits)} / ${format(percentile(values, 50), digits)} / ${format(Math.max(...values), digits)}`;
const ratios = (kb, name, field) => {
  const mine = results.get(key(kb, name))[field];
  const floor = results.get(key(kb, 'bare'))[field];
  return mine.map((value, index) => value / floor[index]);
};
const meanBody = (kb) => bodyBytes.get(kb).bytes / bodyBytes.get(kb).requests;
const lines = [
  `Measured ${new Date().toISOString().slice(0, 10)} with \`node bench/proxy-bodies.mjs --repetitions ${repetitions} --requests ${requestsPerRun}${turnsPerSession === defaultTurns ? '' : ` --turns ${turnsPerSession}`}${overTls ? ' --tls' : ''}${baselineRoot === null ? '' : ' --baseline …'}\` on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}: ${concurrency} concurrent Codex sessions in Codex 0.171's request shape, each request extending its session (the last answer's output items and a new user message; mean body ${sizes.map((kb) => `~${kb} KB: ${(meanBody(kb) / 1024).toFixed(1)} KB`).join(', ')}); sessions of ${turnsPerSession} turns, each of a pair's 64 streams carrying its session on from one run to the next and starting a new one after the last turn (${firstTurns} of the ${measuredRequests} measured requests were a session's first turn); per repetition every (size, proxy) pair runs ${requestsPerRun} requests, in a rotating order, after one warm-up round; ratios against the bare undici proxy of the same repetition, min / median / max. Load average at the start: ${loadAtStart}; at the end: ${loadavg()
    .map((value) => value.toFixed(1))
    .join(
      ', ',
    )} on ${cpus().length} cores (the fake, the load generator and the ${routers.length + 1} proxy processes share them). ${failures} failed requests.`,
  '',
  '| body | proxy | requests/s (median) | CPU ms per request (median) | throughput / bare | CPU per request / bare |',
  '|---|---|---|---|---|---|',
];
for (const kb of sizes) {
  for (const proxy of proxies) {
    const entry = results.get(key(kb, proxy.name));
    const isBare = proxy.name === 'bare';
    lines.push(
      `| ~${kb} KB | ${proxy.name} | ${format(percentile(entry.rps, 50), 0)} | ${format(percentile(entry.cpu, 50) * 1000, 3)} | ${isBare ? '1' : range(ratios(kb, proxy.name, 'rps'))} | ${isBare ? '1' : range(ratios(kb, proxy.name, 'cpu'))} |`,
    );
  }
}
lines.push(
  '',
  'Where each process spends its CPU, ms per request (median over the repetitions): the event loop (main thread), libuv’s thread pool, V8’s helper threads (garbage collection, compilation).',
  '',
  '| body | proxy | event loop | thread pool | V8 helpers |',
  '|---|---|---|---|---|',
);
for (const kb of sizes) {
  for (const proxy of proxies) {
    const entry = results.get(key(kb, proxy.name));
    lines.push(
      `| ~${kb} KB | ${proxy.name} | ${format(percentile(entry.loop, 50) * 1000, 3)} | ${format(percentile(entry.pool, 50) * 1000, 3)} | ${format(percentile(entry.other, 50) * 1000, 3)} |`,
    );
  }
}
const difference = (kb, field, prefix = 'router') => {
  const on = results.get(key(kb, `${prefix}, zstd on`))[field];
  const off = results.get(key(kb, `${prefix}, zstd off`))[field];
  return on.map((value, index) => (value - off[index]) * 1000);
};
/** The compression line for one router (this checkout's, or the baseline's). */
const compressionCost = (prefix) =>
  sizes
    .map(
      (kb) =>
        `~${kb} KB ${range(difference(kb, 'cpu', prefix), 3)} in all, of which on the thread pool ${range(difference(kb, 'pool', prefix), 3)} and on the event loop ${range(difference(kb, 'loop', prefix), 3)}`,
    )
    .join('; ');
lines.push(
  '',
  `- CPU spent compressing request bodies (router zstd on − zstd off, ms per request, min / median / max): ${compressionCost('router')}.`,
  ...(baselineRoot === null
    ? []
    : [
        `- The same for the baseline router (its zstd on − its zstd off): ${compressionCost('baseline router')}.`,
      ]),
  ...[...frames].map(
    ([name, counted]) =>
      `- ${name}: ${counted.all} \`response.create\` frames for ${counted.requests} requests, ${counted.incremental} of them incremental (\`previous_response_id\` and only the new items; each session's first turn goes in full).`,
  ),
  '- Targets: throughput ≥ 0.9× and CPU per request ≤ 1.2× the bare proxy, at both sizes. With zstd on, the throughput ratio also carries the fake upstream decompressing every body on the same cores (the real upstream does that on its own machines); with the WebSocket upstream the fake parses only the new items, which flatters that variant’s throughput the same way. What compression and the WebSocket buy is upload bytes on the user’s uplink (bench/upload-bytes.mjs), which loopback cannot show.',
  '',
);
const section = lines.join('\n');
console.log(section);
if (writeResults && sizes.length === 2) {
  const file = join(repoRoot, 'docs/benchmarks.md');
  await writeFile(
    file,
    await updateSection(
      await readFile(file, 'utf8'),
      `Long sessions: realistic bodies${turnsPerSession === defaultTurns ? '' : `, ${turnsPerSession}-turn sessions`}${overTls ? ', over TLS' : ''}`,
      section,
    ),
  );
  console.log('Updated docs/benchmarks.md');
}
