// The long-session hot path with realistic bodies: 64 concurrent streams whose every request
// extends its session as Codex does (the whole history re-sent, `session-id` and
// `x-codex-turn-metadata` headers, reasoning ciphertext included), with ~40 KB and ~300 KB bodies.
// Three proxies run side by side, each in its own process: a bare undici pass-through (the floor),
// the router with zstd request bodies off, and the router as shipped (zstd on). Each repetition runs
// every (size, proxy) pair once, in a rotating order, so the machine's drift hits all alike; the
// report gives min / median / max over the repetitions of each ratio against the bare proxy
// measured in the same repetition: throughput, and CPU per request (from /proc, Linux only).
// The CPU spent compressing is the difference between the two routers, and it runs on libuv's
// thread pool (it shows in the process's CPU, not on its event loop).
//
//   node bench/proxy-bodies.mjs [--repetitions N] [--requests N] [--no-write]
import { readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { mintEncryptedContent } from '../test/fakes/ciphertext.ts';
import { startFakeChatGpt } from '../test/fakes/fake-chatgpt.ts';
import { percentile, readProcessStats, updateSection } from './helpers/measure.mjs';
import { seedBenchLab, startBareProxy, startRouter } from './helpers/router.mjs';

const argument = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const repetitions = argument('repetitions', 5);
const requestsPerRun = argument('requests', 256);
const concurrency = 64;
const writeResults = !process.argv.includes('--no-write');
const repoRoot = resolve(import.meta.dirname, '..');
const sizes = [40, 300];

const fake = await startFakeChatGpt({
  accounts: [{ email: 'bodies-a@example.com', usagePerTurn: 0, reply: 'ok' }],
});
const { root, seeded, env, routerToken } = await seedBenchLab(fake, 'codex-lab-bodies-', [
  { name: 'a', email: 'bodies-a@example.com' },
]);
const [profile] = seeded;
const account = fake.account('bodies-a@example.com');

/** A Codex-like history of ~`kb` KB: tool outputs, reasoning items with ciphertext, messages. */
function historyOf(kb, session) {
  const items = [];
  let size = 0;
  for (let turn = 0; size < kb * 1024; turn += 1) {
    const output = `${'src/module.ts: export function handler(request) { return request.body; }\n'.repeat(40)}`;
    items.push(
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: `turn ${turn}` }] },
      {
        type: 'reasoning',
        id: `rs_${session}_${turn}`,
        summary: [],
        // Sealed for the account that serves every request here, as the upstream minted it.
        encrypted_content: mintEncryptedContent(fake, account, `rs_${session}_${turn}`),
      },
      { type: 'function_call_output', call_id: `call_${turn}`, output },
      {
        type: 'message',
        role: 'assistant',
        content: [{ type: 'output_text', text: `Done with turn ${turn}.` }],
      },
    );
    size += output.length + 1400;
  }
  return items;
}

const bodies = new Map();
for (const kb of sizes) {
  const perSlot = [];
  for (let slot = 0; slot < concurrency; slot += 1) {
    const session = `bodies-${kb}-${slot}`;
    perSlot.push({
      session,
      text: JSON.stringify({
        model: 'gpt-6.2-sol',
        stream: true,
        store: false,
        include: ['reasoning.encrypted_content'],
        prompt_cache_key: session,
        input: historyOf(kb, session),
      }),
    });
  }
  bodies.set(kb, perSlot);
}

async function run(baseUrl, headers, kb, count) {
  const dispatcher = new Agent({ connections: concurrency, pipelining: 1 });
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, slot) => {
      const { session, text } = bodies.get(kb)[slot];
      for (;;) {
        if (next++ >= count) return;
        const response = await request(`${baseUrl}/backend-api/codex/responses`, {
          method: 'POST',
          dispatcher,
          headers: {
            ...headers,
            'content-type': 'application/json',
            accept: 'text/event-stream',
            'session-id': session,
            'x-codex-turn-metadata': JSON.stringify({ session_id: session, model: 'gpt-6.2-sol' }),
          },
          body: text,
        });
        let answer = '';
        for await (const chunk of response.body) answer += chunk;
        if (response.statusCode !== 200 || !answer.includes('response.completed')) failures += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await dispatcher.close();
  return { rps: count / seconds, failures };
}

const upstreamOrigin = new URL(fake.backendUrl).origin;
// A second lab over the same fake account: `serve` runs one router per home.
const second = await seedBenchLab(fake, 'codex-lab-bodies-zstd-', [
  { name: 'a', email: 'bodies-a@example.com' },
]);
const bare = await startBareProxy(upstreamOrigin, concurrency * 2);
const plainRouter = await startRouter({ ...env, CODEX_LAB_UPSTREAM_ZSTD: 'off' });
const shippedRouter = await startRouter(second.env);

const proxies = [
  {
    name: 'bare',
    url: bare.url,
    pid: bare.pid,
    headers: {
      authorization: `Bearer ${profile.accessToken}`,
      'chatgpt-account-id': profile.accountId,
    },
  },
  {
    name: 'router, zstd off',
    url: plainRouter.url,
    pid: plainRouter.pid,
    headers: { authorization: `Bearer ${await routerToken()}` },
  },
  {
    name: 'router, zstd on',
    url: shippedRouter.url,
    pid: shippedRouter.pid,
    headers: { authorization: `Bearer ${await second.routerToken()}` },
  },
];

/** Per (size, proxy): throughput and CPU seconds per request of the proxy process, per repetition. */
const results = new Map();
const key = (kb, name) => `${kb}:${name}`;
let failures = 0;
try {
  for (let repetition = -1; repetition < repetitions; repetition += 1) {
    const pairs = sizes.flatMap((kb) => proxies.map((proxy) => ({ kb, proxy })));
    const offset = repetition + 1;
    const order = pairs.map((_, index) => pairs[(index + offset) % pairs.length]);
    for (const { kb, proxy } of order) {
      const before = readProcessStats(proxy.pid);
      const result = await run(
        proxy.url,
        proxy.headers,
        kb,
        repetition < 0 ? concurrency : requestsPerRun,
      );
      const after = readProcessStats(proxy.pid);
      if (repetition < 0) continue;
      failures += result.failures;
      const entry = results.get(key(kb, proxy.name)) ?? { rps: [], cpu: [] };
      entry.rps.push(result.rps);
      entry.cpu.push(
        before && after ? (after.cpuSeconds - before.cpuSeconds) / requestsPerRun : NaN,
      );
      results.set(key(kb, proxy.name), entry);
    }
  }
} finally {
  await shippedRouter.close();
  await plainRouter.close();
  await bare.close();
  await fake.close();
  await rm(root, { recursive: true, force: true });
  await rm(second.root, { recursive: true, force: true });
}

const format = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const range = (values, digits = 2) =>
  `${format(Math.min(...values), digits)} / ${format(percentile(values, 50), digits)} / ${format(Math.max(...values), digits)}`;
const ratios = (kb, name, field) => {
  const mine = results.get(key(kb, name))[field];
  const floor = results.get(key(kb, 'bare'))[field];
  return mine.map((value, index) => value / floor[index]);
};
const lines = [
  `Measured ${new Date().toISOString().slice(0, 10)} with \`node bench/proxy-bodies.mjs --repetitions ${repetitions} --requests ${requestsPerRun}\` on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}: ${concurrency} concurrent streams, each request re-sending its session's whole history as Codex does (~${sizes.join(' KB and ~')} KB, with reasoning ciphertext, session and model in headers); per repetition every (size, proxy) pair runs ${requestsPerRun} requests in a rotating order after one warm-up round; ratios against the bare undici proxy of the same repetition, min / median / max. Load average at the end: ${loadavg()
    .map((value) => value.toFixed(1))
    .join(
      ', ',
    )} on ${cpus().length} cores (the fake, the load generator and the three proxies share them). ${failures} failed requests.`,
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
const compressing = (kb) => {
  const on = results.get(key(kb, 'router, zstd on')).cpu;
  const off = results.get(key(kb, 'router, zstd off')).cpu;
  return on.map((value, index) => (value - off[index]) * 1000);
};
lines.push(
  '',
  `- CPU spent compressing request bodies (router zstd on − off, ms per request, min / median / max): ~40 KB ${range(compressing(40), 3)}; ~300 KB ${range(compressing(300), 3)}. It runs on libuv's thread pool (zlib's asynchronous API), not on the event loop.`,
  '- Targets: throughput ≥ 0.9× and CPU per request ≤ 1.2× the bare proxy, at both sizes. With zstd on, the throughput ratio also carries the fake upstream decompressing every body on the same cores (the real upstream does that on its own machines); what compression buys is upload bytes on the user’s uplink (about 2.9× fewer on a Codex turn), which loopback cannot show.',
  '',
);
const section = lines.join('\n');
console.log(section);
if (writeResults) {
  const file = join(repoRoot, 'docs/benchmarks.md');
  await writeFile(
    file,
    updateSection(await readFile(file, 'utf8'), 'Long sessions: realistic bodies', section),
  );
  console.log('Updated docs/benchmarks.md');
}
