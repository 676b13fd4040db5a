// Failover cost: the time from the upstream's 429 `usage_limit_reached` to the first byte from the
// second profile, less one upstream round trip. Each round, in the same run and one request at a
// time (no other load):
//   - rtt:      a direct request to the fake ChatGPT that answers 429, read to its end (what the
//               router waits for before it can fall over);
//   - direct:   a direct request answered normally (time to first byte), for context;
//   - normal:   a new session through the router, served by the active profile (time to first byte);
//   - failover: a new session through the router whose active profile answers 429, served by the
//               next profile (time to first byte; the answer must say `x-codex-lab-route: fallback`).
// Failover cost per round = failover − normal − rtt; the report gives its median and p90, and
// appends them to docs/benchmarks.md under "Failover". Target: ≤ 5 ms.
//
//   node bench/failover.mjs [--rounds N] [--no-write]
import { readFile, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { startFakeChatGpt } from '../test/fakes/fake-chatgpt.ts';
import { percentile, updateSection } from './helpers/measure.mjs';
import { benchOptions } from './helpers/options.ts';
import { codexRequestBody, runCli, seedBenchLab, startRouter } from './helpers/router.mjs';

const options = benchOptions('node bench/failover.mjs [--rounds N] [--no-write]', {
  rounds: 200,
  'no-write': false,
});
const rounds = options.rounds;
const writeResults = !options['no-write'];
const repoRoot = resolve(import.meta.dirname, '..');

const requestBody = codexRequestBody();

const fake = await startFakeChatGpt({
  accounts: [
    { email: 'failover-a@example.com', usagePerTurn: 0 },
    { email: 'failover-b@example.com', usagePerTurn: 0 },
  ],
});
const { root, seeded, env, routerToken } = await seedBenchLab(fake, 'codex-lab-failover-', [
  { name: 'a', email: 'failover-a@example.com' },
  { name: 'b', email: 'failover-b@example.com' },
]);
const [first] = seeded;
// New sessions go to `a` first, so every queued 429 on `a` makes the router fall over to `b`.
await runCli(env, ['use', 'a']);
const accountA = fake.account('failover-a@example.com');
const limitOnce = () => accountA.failures.push({ kind: 'usage_limit', resetsInSeconds: 0 });

const dispatcher = new Agent({ connections: 4 });
/** One POST; resolves with the time to the first body byte (or the end), status and headers. */
async function timed(url, headers, { readAll = false } = {}) {
  const begin = performance.now();
  const response = await request(url, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: requestBody,
  });
  let firstByte = 0;
  for await (const chunk of response.body) {
    if (firstByte === 0 && chunk.length > 0) firstByte = performance.now();
  }
  const end = performance.now();
  return {
    ms: (readAll ? end : firstByte || end) - begin,
    status: response.statusCode,
    headers: response.headers,
  };
}

const rtt = [];
const directFirstByte = [];
const normal = [];
const failover = [];
const cost = [];
let wrongRoutes = 0;
let router;
try {
  router = await startRouter(env);
  const token = await routerToken();
  const routed = `${router.url}/backend-api/codex/responses`;
  const direct = `${new URL(fake.backendUrl).origin}/backend-api/codex/responses`;
  const directHeaders = {
    authorization: `Bearer ${first.accessToken}`,
    'chatgpt-account-id': first.accountId,
  };
  for (let round = -20; round < rounds; round += 1) {
    // Negative rounds warm up connections, credential caches and the JIT; they are not counted.
    limitOnce();
    const baseline = await timed(direct, directHeaders, { readAll: true });
    if (baseline.status !== 429) throw new Error(`the fake answered ${baseline.status}, not 429`);
    const straight = await timed(direct, directHeaders);
    const plain = await timed(routed, {
      authorization: `Bearer ${token}`,
      'session-id': `normal-${round}`,
    });
    limitOnce();
    const moved = await timed(routed, {
      authorization: `Bearer ${token}`,
      'session-id': `failover-${round}`,
    });
    if (round < 0) continue;
    if (
      plain.status !== 200 ||
      moved.status !== 200 ||
      plain.headers['x-codex-lab-profile'] !== 'a' ||
      moved.headers['x-codex-lab-route'] !== 'fallback' ||
      moved.headers['x-codex-lab-profile'] !== 'b'
    ) {
      wrongRoutes += 1;
      continue;
    }
    rtt.push(baseline.ms);
    directFirstByte.push(straight.ms);
    normal.push(plain.ms);
    failover.push(moved.ms);
    cost.push(moved.ms - plain.ms - baseline.ms);
  }
} finally {
  await router?.close();
  await dispatcher.close();
  await fake.close();
  await rm(root, { recursive: true, force: true });
}

const format = (value) => (value === undefined ? 'n/a' : value.toFixed(2));
const row = (name, values) =>
  `| ${name} | ${format(percentile(values, 50))} | ${format(percentile(values, 90))} | ${format(percentile(values, 99))} |`;
const lines = [
  `Measured ${new Date().toISOString().slice(0, 10)} with \`node bench/failover.mjs --rounds ${rounds}\` on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}: ${cost.length} rounds, one request at a time, the fake ChatGPT and the router on loopback (${wrongRoutes} rounds not routed as expected, left out).`,
  '',
  '| measured | p50 ms | p90 ms | p99 ms |',
  '|---|---|---|---|',
  row('upstream round trip of the 429 (direct, read to the end)', rtt),
  row('direct, a normal answer (TTFB)', directFirstByte),
  row('router, new session on the active profile (TTFB)', normal),
  row('router, 429 on the active profile then the next one (TTFB)', failover),
  row('**failover cost = failover − normal − round trip**', cost),
  '',
  `- **failover cost p50: ${format(percentile(cost, 50))} ms** (target ≤ 5 ms)`,
  '',
  'Between the 429 and the second request the router reads the 429 body (at most 64 KB), classifies it, marks the profile limited in memory (the health file is written in the background), picks the next profile and reuses its cached credentials; nothing on that path waits for a file beyond the once-a-second mtime check any request may make.',
  '',
];
const section = lines.join('\n');
console.log(section);
if (writeResults) {
  const file = join(repoRoot, 'docs/benchmarks.md');
  await writeFile(file, await updateSection(await readFile(file, 'utf8'), 'Failover', section));
  console.log(`Updated ${file}`);
}
