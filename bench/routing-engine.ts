// Routing an existing session on the real engine path: `LabEngine.prepare` → `choose` → `commit`,
// what the router runs per request, with 100 000 live sessions and 5, 50 or 200 profiles. Every
// request carries Codex 0.171's headers as a fresh object with fresh strings, as Node hands them to
// the router: `session-id`, `thread-id`, `x-codex-window-id` and a ~900-byte, 22-key
// `x-codex-turn-metadata` whose turn id and start time change per request (the layout the real
// Codex 0.171 sends from inside a git repository, read off the router in the end-to-end suite:
// the workspace with its last commit, `model` followed by `reasoning_effort`). Headers are built
// in small chunks outside the timed region, so
// they die young as in the server. The pool sizes are interleaved in a rotating order, repeated,
// and each repetition times every request of a batch on its own (`performance.now()`, a
// monotonic high-resolution clock, around each call); the report gives, per pool size, min /
// median / max over the repetitions of the p50, the p99 and the max (µs), the cost of the timer
// itself, and the load average. Target: p99 ≤ 5 µs at 200 profiles.
//
// The machine's own floor is measured in the same run, interleaved: a loop that touches no
// memory, sized in the warm-up to take the 200-profile median, timed the same way. A virtual
// machine's thread is paused now and then (the hypervisor's work; 2–6 µs each, thousands of
// times a second, counted at the end with a tight timer loop), and a request caught by a pause
// pays all of it; the loop is caught at the same rate, so its p99 is the p99 this machine gives
// any work of that length. Routing's own tail is what its p99 adds to the floor's.
//
// Allocation is counted too, a figure the machine's load does not move: after each timed batch,
// untimed, the same kind of requests are routed again a chunk at a time (headers built before
// each chunk) and the bytes the heap grew by while routing (`used_heap_size`, plus what each
// young-generation collection in between freed, from `v8.GCProfiler`) are divided by the
// requests. Chunks a full collection ran in are left out (its sweeping frees memory after it
// reports). The report gives bytes per request, min / median / max over the repetitions, and
// what of it is the `excluded` map the server creates per request (measured alone).
//
//   node bench/routing-engine.ts [--repetitions N] [--batch N] [--sessions N] [--active N]
//     [--allocation-batch N]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import type { ProxyRequestInfo } from '../core/proxy/engine.ts';
import { codexRequestHeaders } from '../test/helpers/codex-like-session.ts';
import { inMemoryEngine } from '../test/helpers/in-memory-engine.ts';
import { benchOptions, positiveCount } from './helpers/options.ts';

/** The p-th percentile (nearest rank) of a list of numbers. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** Arithmetic with no memory traffic, `rounds` steps long: the floor's unit of work. */
function spin(rounds: number): number {
  let value = rounds;
  for (let round = 0; round < rounds; round += 1) {
    value = (Math.imul(value, 1_103_515_245) + 12_345) | 0;
  }
  return value;
}
let sink = 0;

/** How many rounds of `spin` take `milliseconds` when nothing interrupts (the fastest of 25). */
function roundsFor(milliseconds: number): number {
  const probe = 100_000;
  let fastest = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 25; attempt += 1) {
    const begin = performance.now();
    sink ^= spin(probe);
    fastest = Math.min(fastest, performance.now() - begin);
  }
  return Math.max(1, Math.round((milliseconds / fastest) * probe));
}

/** Pauses of this thread seen by a tight timer loop over one second: over 2 µs, and over 4 µs. */
function pausesPerSecond(): { count: number; over4: number } {
  let count = 0;
  let over4 = 0;
  const end = performance.now() + 1000;
  let last = performance.now();
  while (last < end) {
    const now = performance.now();
    const gap = now - last;
    if (gap > 0.002) count += 1;
    if (gap > 0.004) over4 += 1;
    last = now;
  }
  return { count, over4 };
}

const options = benchOptions(
  'node bench/routing-engine.ts [--repetitions N] [--batch N] [--sessions N] [--active N] [--allocation-batch N]',
  { repetitions: 7, batch: 50_000, sessions: 100_000, active: null, 'allocation-batch': 10_000 },
);
const repetitions = options.repetitions;
const batch = options.batch;
// Fewer live sessions (`--sessions 1000`) show what the table's size costs: the same requests
// with every session's memory in cache.
const sessionCount = options.sessions;
// How many of them send requests (`--active 64`: a person's few Codex sessions at work among a
// day's table); by default every one, in a scattered order: the worst case for the caches.
const activeCount =
  options.active === null
    ? sessionCount
    : Math.min(sessionCount, positiveCount('active', options.active));
// Requests routed per pool size and repetition for the allocation count (untimed).
const allocationBatch = options['allocation-batch'];
const poolSizes = [5, 50, 200];
const loadAtStart = loadavg()
  .map((value) => value.toFixed(2))
  .join(', ');

// A fixed instant, read as the system clock's `Date.now()` is: a field, not a date computed per call.
const fixedNow = Date.UTC(2026, 10, 30, 12);
const clock = { now: () => fixedNow, setTimeout, clearTimeout } as never;
const home = mkdtempSync(join(tmpdir(), 'codex-lab-routing-'));
// Removed as the process exits, whether the run ends or throws: after that, no health mark the
// engines save off the hot path can make the folder again.
process.on('exit', () => rmSync(home, { recursive: true, force: true }));

async function engineWith(profileCount: number) {
  const { engine, names } = await inMemoryEngine({ home, profileCount, clock });
  // Every profile has answered once: its quota (from the x-codex-* headers) is known, as in use.
  for (const [index, name] of names.entries()) {
    engine.observe(name, 200, {
      'x-codex-plan-type': 'plus',
      'x-codex-primary-used-percent': String(index % 90),
      'x-codex-primary-window-minutes': '300',
      'x-codex-primary-reset-at': String(Math.floor(Date.UTC(2026, 10, 30, 14) / 1000)),
      'x-codex-secondary-used-percent': String((index * 7) % 90),
      'x-codex-secondary-window-minutes': '10080',
      'x-codex-secondary-reset-at': String(Math.floor(Date.UTC(2026, 11, 4) / 1000)),
    });
  }
  // As the server does: one map of excluded profiles per request, for every attempt and the commit.
  const route = (info: ProxyRequestInfo): void => {
    const ticket = engine.prepare(info);
    const excluded = new Map<string, string>();
    const pick = ticket.choose(excluded);
    if (pick instanceof Promise || !pick.ok)
      throw new Error('the engine did not route synchronously');
    ticket.commit(pick, excluded);
  };
  // Every session routed once: from now on each is an existing session. (The requests are not
  // kept: a router keeps only what its session table holds.)
  for (let index = 0; index < sessionCount; index += 1) route(requestOf(index, 0));
  return { route };
}

/** One request of session `index`, turn `turn`, as Node would hand it to the router. */
function requestOf(index: number, turn: number): ProxyRequestInfo {
  const thread = `019a${index.toString(16).padStart(8, '0')}-72ea-73c1-b961-fbcd4ef19122`;
  const sent = codexRequestHeaders({
    session: thread,
    turn,
    token: 'router-token',
    repo: `/home/dev/repo-${index % 40}`,
  });
  // Node's HTTP parser hands out flat strings read from the socket's bytes; a template literal
  // would be a rope that the first search flattens (a cost the server never pays).
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(sent)) {
    headers[name] = Buffer.from(value, 'latin1').toString('latin1');
  }
  headers['host'] = '127.0.0.1:18080';
  headers['content-length'] = '101234';
  return { kind: 'responses', method: 'POST', path: '/codex/responses', headers, body: null };
}

/**
 * Bytes the heap grew by while `work` ran, plus what young-generation collections freed meanwhile;
 * null when a full collection ran (its sweeping frees memory after it reports, so the count would
 * be low).
 */
function bytesAllocated(work: () => void): number | null {
  const profiler = new GCProfiler();
  profiler.start();
  const before = getHeapStatistics().used_heap_size;
  work();
  const after = getHeapStatistics().used_heap_size;
  let freed = 0;
  for (const collection of profiler.stop()?.statistics ?? []) {
    if (collection.gcType !== 'Scavenge' && collection.gcType !== 'MinorMarkSweep') return null;
    freed +=
      collection.beforeGC.heapStatistics.usedHeapSize -
      collection.afterGC.heapStatistics.usedHeapSize;
  }
  return after - before + freed;
}

/**
 * Bytes allocated per request routing `count` requests of the active sessions, a chunk at a
 * time (each chunk's headers built before it, outside the count); NaN when every chunk saw a
 * full collection. The counting itself (the profiler, two heap reads) is measured on an empty
 * chunk and taken off.
 */
function allocationPerRequest(route: (info: ProxyRequestInfo) => void, count: number): number {
  let bytes = 0;
  let routed = 0;
  for (let start = 0; start < count; start += chunk) {
    const requests: ProxyRequestInfo[] = [];
    for (let index = start; index < Math.min(count, start + chunk); index += 1) {
      requests.push(requestOf(((index * 7919) % activeCount) * stride, turn));
    }
    const overhead = bytesAllocated(() => undefined);
    const used = bytesAllocated(() => {
      for (let index = 0; index < requests.length; index += 1) route(requests[index]!);
    });
    if (overhead === null || used === null) continue;
    bytes += used - overhead;
    routed += requests.length;
  }
  return routed === 0 ? Number.NaN : bytes / routed;
}

const engines = new Map<number, Awaited<ReturnType<typeof engineWith>>>();
for (const size of poolSizes) engines.set(size, await engineWith(size));

const results = new Map<number, { p50: number[]; p99: number[]; max: number[]; bytes: number[] }>(
  poolSizes.map((size) => [size, { p50: [], p99: [], max: [], bytes: [] }]),
);
/** Bytes per request of the server's own `excluded` map, measured alone. */
const mapBytes: number[] = [];
const timerCost = { p50: [] as number[], p99: [] as number[] };
const floor = { p50: [] as number[], p99: [] as number[] };
/** Rounds of `spin` that take the 200-profile median; set after the warm-up. */
let spinRounds = 0;
const timings = new Float64Array(batch);
// The active sessions are spread over the table, not its first entries.
const stride = Math.floor(sessionCount / activeCount);
// Fresh headers per request, built a chunk at a time outside the timed region.
const chunk = 1000;
let turn = 1;
for (let repetition = -1; repetition < repetitions; repetition += 1) {
  const order = poolSizes.map(
    (_, index) => poolSizes[(index + repetition + 1) % poolSizes.length]!,
  );
  for (const size of order) {
    const { route } = engines.get(size)!;
    turn += 1;
    for (let start = 0; start < batch; start += chunk) {
      const requests: ProxyRequestInfo[] = [];
      for (let index = start; index < Math.min(batch, start + chunk); index += 1) {
        requests.push(requestOf(((index * 7919) % activeCount) * stride, turn));
      }
      for (let index = 0; index < requests.length; index += 1) {
        const info = requests[index]!;
        const begin = performance.now();
        route(info);
        timings[start + index] = performance.now() - begin;
      }
    }
    if (repetition < 0) {
      if (size === 200) spinRounds = roundsFor(percentile(Array.from(timings), 50));
      continue;
    }
    const micros = Array.from(timings, (ms) => ms * 1000);
    results.get(size)!.p50.push(percentile(micros, 50));
    results.get(size)!.p99.push(percentile(micros, 99));
    results.get(size)!.max.push(Math.max(...micros));
    turn += 1;
    results.get(size)!.bytes.push(allocationPerRequest(route, allocationBatch));
  }
  if (repetition >= 0) {
    mapBytes.push(
      allocationPerRequest(() => {
        sink ^= new Map<string, string>().size;
      }, allocationBatch),
    );
  }
  for (let index = 0; index < batch; index += 1) {
    const begin = performance.now();
    timings[index] = performance.now() - begin;
  }
  if (repetition < 0) continue;
  const empty = Array.from(timings, (ms) => ms * 1000);
  timerCost.p50.push(percentile(empty, 50));
  timerCost.p99.push(percentile(empty, 99));
  for (let index = 0; index < batch; index += 1) {
    const begin = performance.now();
    sink ^= spin(spinRounds);
    timings[index] = performance.now() - begin;
  }
  const spun = Array.from(timings, (ms) => ms * 1000);
  floor.p50.push(percentile(spun, 50));
  floor.p99.push(percentile(spun, 99));
}
const pauses = pausesPerSecond();
// What median would meet the target here: the floor's p99 for shorter work.
const floorByMedian = [0.5, 1, 1.5, 2].map((micros) => {
  const rounds = roundsFor(micros / 1000);
  for (let index = 0; index < batch; index += 1) {
    const begin = performance.now();
    sink ^= spin(rounds);
    timings[index] = performance.now() - begin;
  }
  return `${micros} µs → p99 ${percentile(
    Array.from(timings, (ms) => ms * 1000),
    99,
  ).toFixed(2)}`;
});
const range = (values: number[]): string =>
  `${Math.min(...values).toFixed(2)} / ${percentile(values, 50).toFixed(2)} / ${Math.max(...values).toFixed(2)}`;
console.log(
  `Measured ${new Date().toISOString().slice(0, 10)} with \`node bench/routing-engine.ts --repetitions ${repetitions} --batch ${batch} --sessions ${sessionCount} --active ${activeCount} --allocation-batch ${allocationBatch}\` on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}: ${sessionCount} live sessions (${activeCount} of them sending), each request an existing session (prepare → choose → commit on the real LabEngine), pool sizes interleaved.`,
);
console.log('');
console.log(
  '| profiles | p50 µs (min / median / max) | p99 µs (min / median / max) | max µs (min / median / max) | bytes allocated per request (min / median / max) |',
);
console.log('|---|---|---|---|---|');
const bytesRange = (values: number[]): string =>
  `${Math.min(...values).toFixed(0)} / ${percentile(values, 50).toFixed(0)} / ${Math.max(...values).toFixed(0)}`;
for (const size of poolSizes) {
  const { p50, p99, max, bytes } = results.get(size)!;
  console.log(`| ${size} | ${range(p50)} | ${range(p99)} | ${range(max)} | ${bytesRange(bytes)} |`);
}
console.log('');
console.log(
  `- bytes allocated per request: counted untimed after each batch over ${allocationBatch} requests (heap growth plus what young-generation collections freed meanwhile); of it, the server's \`excluded\` map per request alone: ${bytesRange(mapBytes)} B`,
);
console.log(
  `- the timer alone (two \`performance.now()\` calls), µs: p50 ${range(timerCost.p50)}, p99 ${range(timerCost.p99)}`,
);
console.log(
  `- the machine's floor (a loop touching no memory, sized to the 200-profile median, ${spinRounds} rounds), µs: p50 ${range(floor.p50)}, p99 ${range(floor.p99)}; pauses of the thread over 2 µs: ${pauses.count} per second, ${pauses.over4} of them over 4 µs (result ${sink & 1})`,
);
console.log(
  `- the floor's p99 for work of a shorter median (once each): ${floorByMedian.join(', ')}`,
);
console.log(
  `- load average at the end: ${loadavg()
    .map((value) => value.toFixed(2))
    .join(', ')} on ${cpus().length} cores (load average at the start: ${loadAtStart})`,
);
