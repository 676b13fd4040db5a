// Routing decision cost: the whole per-request hot path (route context → session lookup →
// policy → session record) with 50 profiles and 100 000 tracked sessions, timed per decision,
// against a baseline of 50 Map lookups into a 100 000-entry Map timed the same way in the same run.
// Run: node bench/routing-decision.ts
import { chooseProfile, type RoutingCandidate } from '../core/router/policy.ts';
import { extractRouteContext } from '../core/router/route-context.ts';
import { BucketMap, SessionTable } from '../core/router/sessions.ts';
import type { QuotaSnapshot } from '../core/state/schema.ts';

const profileCount = 50;
const sessionCount = 100_000;
const samples = Number(process.argv[2] ?? 200_000);
const warmup = Math.min(50_000, samples);

let now = Date.UTC(2026, 0, 5, 12);
const clock = { now: () => now };

function snapshot(weekly: number, fiveHour: number | null): QuotaSnapshot {
  return {
    observedAt: now,
    source: 'headers',
    plan: 'plus',
    primary:
      fiveHour === null
        ? null
        : { usedPercent: fiveHour, windowMinutes: 300, resetsAt: now + 3_600_000 },
    secondary: {
      usedPercent: weekly,
      windowMinutes: 10080,
      resetsAt: now + (1 + (weekly % 6)) * 86_400_000,
    },
    credits: null,
    activeLimit: null,
    limitReached: null,
    others: [],
  };
}

// A realistic pool: a few limited, one needing sign-in, one failing upstream, the rest at mixed usage.
const candidates: RoutingCandidate[] = Array.from({ length: profileCount }, (_, index) => ({
  name: `profile-${index}`,
  status: index % 17 === 3 ? 'limited' : index === 7 ? 'auth_error' : 'ok',
  unavailableUntil: index % 17 === 3 ? now + 7_200_000 : null,
  circuitOpenUntil: index === 11 ? now + 30_000 : null,
  quota: snapshot((index * 37) % 100, index % 3 === 0 ? null : (index * 13) % 100),
}));

const sessions = new SessionTable({ clock });
const buckets = new BucketMap({ clock });
const ids: string[] = [];
for (let index = 0; index < sessionCount; index++) {
  const id = `01a20c5e-72ea-73c1-b961-${index.toString(16).padStart(12, '0')}`;
  ids.push(id);
  sessions.record(id, {
    profile: `profile-${index % profileCount}`,
    route: 'best',
    repo: `/home/dev/repo-${index % 40}`,
    model: 'gpt-5.1-codex',
    pinned: null,
  });
}

const turnMetadata = (repo: string): string =>
  JSON.stringify({
    session_id: 'x',
    workspaces: { [repo]: { has_changes: false } },
    model: 'gpt-5.1-codex',
    request_kind: 'turn',
  });
const metadataByRepo = Array.from({ length: 40 }, (_, index) =>
  turnMetadata(`/home/dev/repo-${index}`),
);
const exclude = new Set<string>();

/** One routed request; 1 in 10 is a new session (the full best-profile scan). */
function route(sample: number): string | null {
  const fresh = sample % 10 === 0;
  const id = fresh ? `new-${sample}` : (ids[(sample * 7919) % sessionCount] as string);
  const headers = {
    'session-id': id,
    'x-codex-window-id': `${id}:0`,
    'x-codex-turn-metadata': metadataByRepo[sample % 40] as string,
    accept: 'text/event-stream',
    'content-type': 'application/json',
  };
  const context = extractRouteContext(headers, { model: 'gpt-5.1-codex', prompt_cache_key: id });
  const decision = chooseProfile({
    candidates,
    context,
    sessionProfile: sessions.profileOf(context.sessionId),
    pin: null,
    active: 'auto',
    bucketProfile: buckets.get(context.repo, context.model),
    exclude,
    now,
  });
  if (decision.profile !== null && decision.route !== null && context.sessionId !== null) {
    sessions.record(context.sessionId, {
      profile: decision.profile,
      route: decision.route,
      repo: context.repo,
      model: context.model,
      pinned: null,
    });
    if (fresh) buckets.set(context.repo, context.model, decision.profile);
  }
  return decision.profile;
}

// Baseline: the same number of Map lookups as there are profiles, into a Map as large as the table.
const baselineMap = new Map(ids.map((id, index) => [id, index]));
function baseline(sample: number): number {
  let sum = 0;
  for (let index = 0; index < profileCount; index++) {
    sum += baselineMap.get(ids[(sample * 7919 + index) % sessionCount] as string) ?? 0;
  }
  return sum;
}

function measure(run: (sample: number) => unknown): Float64Array {
  const times = new Float64Array(samples);
  let sink = 0;
  for (let sample = 0; sample < warmup; sample++) if (run(sample)) sink++;
  for (let sample = 0; sample < samples; sample++) {
    const started = process.hrtime.bigint();
    if (run(sample + warmup)) sink++;
    times[sample] = Number(process.hrtime.bigint() - started) / 1000;
    now += 1;
  }
  if (sink < 0) console.log(sink);
  return times.sort();
}

const percentile = (sorted: Float64Array, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;

// Interleave two rounds so both sides see the same machine noise.
const baseTimes: Float64Array[] = [];
const routeTimes: Float64Array[] = [];
for (let round = 0; round < 2; round++) {
  baseTimes.push(measure(baseline));
  routeTimes.push(measure(route));
}
const base = baseTimes[1] as Float64Array;
const routed = routeTimes[1] as Float64Array;
const row = (label: string, sorted: Float64Array): string =>
  `| ${label} | ${percentile(sorted, 0.5).toFixed(2)} | ${percentile(sorted, 0.99).toFixed(2)} | ${(
    percentile(sorted, 0.99) / percentile(base, 0.99)
  ).toFixed(1)}× |`;
console.log(
  `Routing decision: ${profileCount} profiles, ${sessions.size} tracked sessions, ${samples} timed decisions (1 in 10 a new session)`,
);
console.log('| measured | p50 µs | p99 µs | p99 vs baseline |');
console.log('|---|---|---|---|');
console.log(row(`baseline: ${profileCount} Map.get on a ${sessionCount}-entry Map`, base));
console.log(row('full decision (context + lookup + policy + record)', routed));
const p99 = percentile(routed, 0.99);
console.log(`target p99 ≤ 20 µs: ${p99 <= 20 ? 'met' : 'NOT met'} (${p99.toFixed(2)} µs)`);
