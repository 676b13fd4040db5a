// Priming cost: (1) the priming request body in bytes against a typical Codex turn body (the
// codex 0.169 capture in research/, content-length 39 555), and (2) the upstream calls priming
// makes per profile in one simulated week, driven by the real scheduler on its own timer against
// the fake ChatGPT with an injected clock (no sleeps). Run: node bench/priming-week.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenManager } from '../core/auth/token-manager.ts';
import { labPaths } from '../core/home/paths.ts';
import { unconstrained } from '../core/net/workspace-routing.ts';
import { silentLogger } from '../core/ports.ts';
import { buildPrimeRequest } from '../core/priming/request.ts';
import { PrimingScheduler } from '../core/priming/scheduler.ts';
import type { PrimingWindow } from '../core/profiles/schema.ts';
import { ProfileStore } from '../core/profiles/store.ts';
import { HealthStore } from '../core/state/health-store.ts';
import { startFakeChatGpt } from '../test/fakes/fake-chatgpt.ts';
import { seedProfiles } from '../test/helpers/seed-profiles.ts';
import { FakeClock } from '../test/unit/priming/fake-clock.ts';

const typicalTurnBytes = 39_555;
const weekMs = 7 * 24 * 3_600_000;

const request = buildPrimeRequest({
  baseUrl: 'https://chatgpt.com/backend-api',
  credentials: { accessToken: 'x', accountId: 'y' },
});
const primeBytes = Buffer.byteLength(request.body);
console.log(
  `priming body: ${primeBytes} bytes; typical Codex turn body: ${typicalTurnBytes} bytes`,
);
console.log(
  `ratio: ${(primeBytes / typicalTurnBytes).toFixed(4)} (1/${Math.round(typicalTurnBytes / primeBytes)})`,
);

async function simulateWeek(windows: PrimingWindow[], label: string): Promise<void> {
  const start = Date.UTC(2026, 10, 23, 9, 0, 0);
  const fake = await startFakeChatGpt();
  fake.setNow(start / 1000);
  const now = start / 1000;
  const unstarted = (minutes: number) => ({
    usedPercent: 0,
    windowMinutes: minutes,
    resetAt: now + minutes * 60,
    unstarted: true,
  });
  for (const email of ['on@example.com', 'off@example.com']) {
    fake.addAccount({
      email,
      primary: unstarted(300),
      secondary: unstarted(10080),
      usagePerTurn: 0.5,
    });
  }
  const home = await mkdtemp(join(tmpdir(), 'codex-lab-bench-priming-'));
  try {
    const seeded = await seedProfiles(fake, home, [
      { name: 'on', email: 'on@example.com' },
      { name: 'off', email: 'off@example.com' },
    ]);
    const clock = new FakeClock(start);
    clock.onChange = (ms) => fake.setNow(Math.floor(ms / 1000));
    const paths = labPaths(home);
    const store = new ProfileStore({ paths, now: () => clock.now() });
    await store.setPriming('on', { enabled: true, windows });
    const health = new HealthStore(paths);
    const tokens = new TokenManager({
      paths,
      store,
      health,
      issuer: fake.issuerUrl,
      clock,
      logger: silentLogger,
    });
    const scheduler = new PrimingScheduler({
      paths,
      workspaces: { routingFor: () => unconstrained },
      store,
      tokens,
      health,
      clock,
      baseUrl: fake.backendUrl,
      random: () => 0.5,
    });
    scheduler.start();
    await scheduler.settled();
    let wakeUps = 0;
    while (clock.now() < start + weekMs) {
      const next = clock.pending()[0];
      if (!next || next.dueAt > start + weekMs) break;
      clock.fireNext();
      wakeUps += 1;
      await scheduler.settled();
    }
    scheduler.stop();
    const forAccount = (accountId: string) =>
      fake.requests.filter((entry) => entry.headers['chatgpt-account-id'] === accountId);
    for (const profile of seeded) {
      const calls = forAccount(profile.accountId);
      const primes = calls.filter(
        (entry) => entry.method === 'POST' && entry.path === '/backend-api/codex/responses',
      ).length;
      const usage = calls.filter((entry) => entry.path === '/backend-api/wham/usage').length;
      console.log(
        `${label}: profile "${profile.name}" (priming ${profile.name === 'on' ? 'on' : 'off'}): ${calls.length} upstream calls in the week = ${primes} priming turns + ${usage} usage reads`,
      );
    }
    console.log(`${label}: scheduler wake-ups in the week: ${wakeUps}`);
  } finally {
    await fake.close();
    await rm(home, { recursive: true, force: true });
  }
}

await simulateWeek(['weekly'], 'weekly only');
await simulateWeek(['weekly', 'five_hour'], 'weekly + 5-hour');
