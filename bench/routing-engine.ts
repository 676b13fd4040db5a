// Routing an existing session on the real engine path: `LabEngine.prepare` → `choose` → `commit`,
// what the router runs per request, with 100 000 live sessions and 5, 50 or 200 profiles. The pool
// sizes are interleaved in a rotating order, repeated, and each repetition times every request of
// a batch; the report gives, per pool size, min / median / max over the repetitions of the p50 and
// the p99 (µs). Target: p99 ≤ 5 µs at 200 profiles (an existing session decides from its own
// profile, not the pool).
//
//   node bench/routing-engine.ts [--repetitions N] [--batch N]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { labPaths } from '../core/home/paths.ts';
import { silentLogger } from '../core/ports.ts';
import type { ProxyRequestInfo } from '../core/proxy/engine.ts';
import { LabEngine } from '../core/proxy/lab-engine.ts';
import { emptyRegistry } from '../core/profiles/schema.ts';
import { QuotaBook } from '../core/quota/quota-book.ts';
import { ActivityLog } from '../core/service/events.ts';
import { HealthStore } from '../core/state/health-store.ts';

/** The p-th percentile (nearest rank) of a list of numbers. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

const argument = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const repetitions = argument('repetitions', 7);
const batch = argument('batch', 50_000);
const sessionCount = 100_000;
const poolSizes = [5, 50, 200];

const clock = { now: () => Date.UTC(2026, 10, 30, 12), setTimeout, clearTimeout } as never;
const home = mkdtempSync(join(tmpdir(), 'codex-lab-routing-'));

async function engineWith(profileCount: number) {
  const names = Array.from({ length: profileCount }, (_, index) => `profile-${index}`);
  const registry = emptyRegistry();
  const engine = new LabEngine({
    paths: labPaths(home),
    store: {
      readRegistry: async () => registry,
      listProfiles: async () => names.map((name) => ({ name })),
    },
    health: new HealthStore(labPaths(home)),
    credentials: {
      getCredentials: async () => ({ accessToken: 'token', accountId: null }),
      refreshAfterUnauthorized: async () => ({ accessToken: 'token', accountId: null }),
    },
    activity: new ActivityLog(clock),
    quota: new QuotaBook({
      clock,
      path: join(home, 'quota.json'),
      logger: silentLogger,
      write: async () => undefined,
    }),
    clock,
    logger: silentLogger,
    // The registry is in memory here: no file check while measuring.
    reloadIntervalMs: Number.MAX_SAFE_INTEGER,
  });
  await engine.load();
  const infos: ProxyRequestInfo[] = Array.from({ length: sessionCount }, (_, index) => ({
    kind: 'responses',
    method: 'POST',
    path: '/codex/responses',
    headers: {
      'session-id': `019a${index.toString(16).padStart(8, '0')}-session`,
      'x-codex-turn-metadata': `{"session_id":"s${index}","model":"gpt-6.2-sol","workspaces":{"/work/repo-${index % 40}":{}}}`,
    },
    body: null,
  }));
  const route = (info: ProxyRequestInfo): void => {
    const ticket = engine.prepare(info);
    const pick = ticket.choose(new Map());
    if (pick instanceof Promise || !pick.ok)
      throw new Error('the engine did not route synchronously');
    ticket.commit(pick, new Map());
  };
  // Every session routed once: from now on each is an existing session.
  for (const info of infos) route(info);
  return { infos, route };
}

const engines = new Map<number, Awaited<ReturnType<typeof engineWith>>>();
for (const size of poolSizes) engines.set(size, await engineWith(size));

const results = new Map<number, { p50: number[]; p99: number[] }>(
  poolSizes.map((size) => [size, { p50: [], p99: [] }]),
);
const timings = new Float64Array(batch);
for (let repetition = -1; repetition < repetitions; repetition += 1) {
  const order = poolSizes.map(
    (_, index) => poolSizes[(index + repetition + 1) % poolSizes.length]!,
  );
  for (const size of order) {
    const { infos, route } = engines.get(size)!;
    for (let index = 0; index < batch; index += 1) {
      const info = infos[(index * 7919) % sessionCount]!;
      const begin = performance.now();
      route(info);
      timings[index] = performance.now() - begin;
    }
    if (repetition < 0) continue;
    const micros = Array.from(timings, (ms) => ms * 1000);
    results.get(size)!.p50.push(percentile(micros, 50));
    results.get(size)!.p99.push(percentile(micros, 99));
  }
}
rmSync(home, { recursive: true, force: true });

const range = (values: number[]): string =>
  `${Math.min(...values).toFixed(2)} / ${percentile(values, 50).toFixed(2)} / ${Math.max(...values).toFixed(2)}`;
console.log(
  `Measured ${new Date().toISOString().slice(0, 10)} with \`node bench/routing-engine.ts --repetitions ${repetitions} --batch ${batch}\` on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}: ${sessionCount} live sessions, each request an existing session (prepare → choose → commit on the real LabEngine), pool sizes interleaved.`,
);
console.log('');
console.log('| profiles | p50 µs (min / median / max) | p99 µs (min / median / max) |');
console.log('|---|---|---|');
for (const size of poolSizes) {
  const { p50, p99 } = results.get(size)!;
  console.log(`| ${size} | ${range(p50)} | ${range(p99)} |`);
}
