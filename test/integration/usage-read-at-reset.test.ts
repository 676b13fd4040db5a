/**
 * A profile whose 5-hour window resets is read again just after the reset (as priming looks at
 * reset + 1 s), so every surface stops showing "100% used, reset due" for the 7–10 minutes until
 * the next usage poll. The real `LabService` on an injected clock against the fake ChatGPT.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { readConfig } from '../../core/config.ts';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { silentLogger } from '../../core/ports.ts';
import { LabService } from '../../core/service/lab-service.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { FakeClock } from '../unit/priming/fake-clock.ts';

const start = Date.UTC(2026, 10, 24, 9, 0, 0);
const minute = 60_000;
const hour = 60 * minute;
const reset = start + 2 * hour;

let fake: FakeChatGpt;
let home: string;
let paths: LabPaths;
let clock: FakeClock;
let service: LabService | undefined;

beforeEach(async () => {
  fake = await startFakeChatGpt({
    accounts: [
      {
        email: 'alpha@example.com',
        primary: { usedPercent: 100, windowMinutes: 300, resetAt: reset / 1000, unstarted: false },
      },
    ],
  });
  fake.setNow(start / 1000);
  home = await mkdtemp(join(tmpdir(), 'codex-lab-usage-reset-'));
  await seedProfiles(fake, home, [{ name: 'alpha', email: 'alpha@example.com' }]);
  paths = labPaths(home);
  clock = new FakeClock(start);
  clock.onChange = (now) => fake.setNow(Math.floor(now / 1000));
});

afterEach(async () => {
  await service?.stop();
  service = undefined;
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

function usageReads(): number {
  return fake.requests.filter((request) => request.path === '/backend-api/wham/usage').length;
}

async function fiveHourUsed(): Promise<number | null> {
  const state = await (service as LabService).getState();
  return (
    state.profiles.find((profile) => profile.name === 'alpha')?.quota?.primary?.usedPercent ?? null
  );
}

/** Fires injected-clock timers one by one, letting each one's loopback reads finish, until `done`. */
async function fireUntil(done: () => Promise<boolean>, limit = 200): Promise<void> {
  for (let fired = 0; fired < limit; fired += 1) {
    if (await done()) return;
    if (!clock.fireNext()) return;
    // A fired poll's reads are real loopback I/O: wait while they keep landing (bounded).
    let reads = -1;
    const deadline = Date.now() + 2_000;
    while (Date.now() < deadline && reads !== usageReads()) {
      reads = usageReads();
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  }
}

it('reads a profile again at its 5-hour reset, not at the next poll minutes later', async () => {
  service = new LabService({
    paths,
    config: readConfig({
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    }),
    clock,
    logger: silentLogger,
    rendererDir: null,
    usagePollMs: 7 * minute,
  });
  await service.start({ port: 0 });
  // The first poll (20 s after the start) reads the spent window.
  await fireUntil(async () => (await fiveHourUsed()) === 100);
  expect(await fiveHourUsed()).toBe(100);
  // Time runs on to the reset: the next read comes right after it.
  await fireUntil(async () => (await fiveHourUsed()) === 0);
  expect(await fiveHourUsed()).toBe(0);
  expect(clock.now()).toBeGreaterThan(reset);
  expect(clock.now()).toBeLessThanOrEqual(reset + 5_000);
}, 30_000);
