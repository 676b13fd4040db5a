// Session memory: RSS after tracking 100 000 distinct sessions, against the same process's
// baseline RSS measured just before; then three simulated days of 100 000 new sessions a day
// (fake clock, 24 h idle TTL) to show the table stays bounded instead of growing.
// Run: node bench/session-memory.ts
import { spawnSync } from 'node:child_process';
import { BucketMap, SessionTable } from '../core/router/sessions.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  // Re-run with an exposed collector so the RSS figures are after a full collection.
  const result = spawnSync(process.execPath, ['--expose-gc', ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  process.exit(result.status ?? 1);
}

const megabyte = 1024 * 1024;
function settle(): { rss: number; heap: number; committed: number } {
  for (let round = 0; round < 3; round++) gc?.();
  const usage = process.memoryUsage();
  return {
    rss: usage.rss / megabyte,
    heap: usage.heapUsed / megabyte,
    committed: usage.heapTotal / megabyte,
  };
}

let now = Date.UTC(2026, 0, 5, 12);
const clock = { now: () => now };
const sessionCount = 100_000;
const days = Number(process.argv[2] ?? 3);
const table = new SessionTable({ clock });
const buckets = new BucketMap({ clock });

/** A fresh flat copy of `text`, as a parser produces (no external buffer involved). */
function flat(text: string): string {
  return JSON.parse(`"${text}"`) as string;
}

const profiles = Array.from({ length: 50 }, (_, index) => `profile-${index}`);

/**
 * A UUID v7-shaped id, fresh and flat the way Node's HTTP parser hands header values over (not a
 * concatenation tree).
 */
function sessionId(day: number, index: number): string {
  const hex = (day * sessionCount + index).toString(16).padStart(12, '0');
  return flat(`01a20c5e-${hex.slice(0, 4)}-7${hex.slice(4, 7)}-b961-${hex}`);
}

function track(day: number): void {
  for (let index = 0; index < sessionCount; index++) {
    // Repos and models arrive as fresh strings on every request (parsed from headers).
    const repo = flat(`/home/dev/project-${index % 200}`);
    const model = ['gpt-5.1-codex', 'gpt-5.4-mini', 'gpt-5.5'][index % 3] as string;
    table.record(sessionId(day, index), {
      profile: profiles[index % 50] as string,
      route: 'best',
      repo,
      model,
      pinned: null,
    });
    buckets.set(repo, model, profiles[index % 50] as string);
    now += 864; // 100 000 sessions spread over one day
  }
}

const baseline = settle();
track(0);
const afterOne = settle();
const daily: { day: number; size: number; rss: number; heap: number; committed: number }[] = [];
for (let day = 1; day <= days; day++) {
  track(day);
  daily.push({ day, size: table.size, ...settle() });
}

const delta = afterOne.rss - baseline.rss;
console.log(`Session memory: ${sessionCount} distinct sessions (50 profiles, 200 repos, 3 models)`);
console.log('| measured | RSS MB | vs baseline |');
console.log('|---|---|---|');
console.log(`| baseline (process before any session) | ${baseline.rss.toFixed(1)} | 1.00× |`);
console.log(
  `| after ${sessionCount} sessions | ${afterOne.rss.toFixed(1)} | ${(afterOne.rss / baseline.rss).toFixed(2)}× (+${delta.toFixed(1)} MB, heap +${(afterOne.heap - baseline.heap).toFixed(1)} MB, ~${Math.round(((afterOne.heap - baseline.heap) * megabyte) / sessionCount)} B/session) |`,
);
for (const { day, size, rss, heap, committed } of daily) {
  console.log(
    `| day ${day + 1} of 100 000 new sessions/day (table holds ${size}) | ${rss.toFixed(1)} | ${(rss / baseline.rss).toFixed(2)}× (heap used +${(heap - baseline.heap).toFixed(1)} MB, committed ${committed.toFixed(0)} MB) |`,
  );
}
console.log(
  `target RSS ≤ 150 MB after ${sessionCount} sessions: ${afterOne.rss <= 150 ? 'met' : 'NOT met'}`,
);
