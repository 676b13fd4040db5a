import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLabError } from '../../core/errors.ts';
import { lockHolder, withLock } from '../../core/home/lock.ts';

// A holder stopped (Ctrl-Z) at any step of taking or giving back a lock, for longer than the
// stale time, while other processes want the lock: it may have spent a refresh token whose
// successor is not on disk yet. Whatever the step, two processes never hold the lock at once,
// and a holder that resumes never removes a newer holder's lock or record.

const preload = new URL('../helpers/stop-at-file-step.mjs', import.meta.url).href;
const lockModule = new URL('../../core/home/lock.ts', import.meta.url).href;
const name = 'refresh-alpha';
const staleMs = 300;

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'codex-lab-lock-pauses-'));
});
afterAll(() => rm(folder, { recursive: true, force: true }));

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function processState(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
}

/** One holder that stops itself after its `step`th file call inside `withLock`. */
function startHolder(locks: string, log: string, step: number) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      preload,
      '--input-type=module',
      '-e',
      `const { appendFileSync } = await import('node:fs');
const { withLock } = await import(${JSON.stringify(lockModule)});
const log = ${JSON.stringify(log)};
globalThis.armFileSteps();
try {
  await withLock(${JSON.stringify(locks)}, ${JSON.stringify(name)}, async () => {
    appendFileSync(log, 'in\\n');
    await new Promise((resolve) => setTimeout(resolve, 5));
    appendFileSync(log, 'out\\n');
  }, { staleMs: 10_000, waitMs: 1_000 });
  appendFileSync(log, 'done\\n');
} catch (error) {
  appendFileSync(log, 'failed ' + error.code + '\\n');
}`,
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        CODEX_LAB_TEST_STOP_AT_STEP: String(step),
        CODEX_LAB_TEST_STEP_LOG: log,
      },
    },
  );
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { child, exited };
}

describe.runIf(process.platform === 'linux')('a lock holder stopped at any step', () => {
  it('keeps its lock while it holds it, and never takes or removes a newer holder’s', async () => {
    const locks = join(folder, 'locks');
    let stepsSeen = 0;
    for (let step = 1; step < 80; step += 1) {
      const log = join(folder, `holder-${step}.log`);
      await writeFile(log, '');
      const lines = async (): Promise<string[]> =>
        (await readFile(log, 'utf8')).split('\n').filter(Boolean);
      const inside = async (): Promise<boolean> => {
        const seen = await lines();
        return seen.includes('in') && !seen.includes('out');
      };
      const holder = startHolder(locks, log, step);
      let exited = false;
      void holder.exited.then(() => (exited = true));
      while (!exited && (await processState(holder.child.pid!)) !== 'T') await delay(10);
      if (exited) {
        // Past its last file step: it took the lock and gave it back without stopping.
        expect(await lines()).toEqual(['in', 'out', 'done']);
        break;
      }
      stepsSeen = step;
      // Stopped for longer than the stale time: nothing it would refresh is fresh any more.
      await delay(staleMs * 2 + 100);
      const outcome = await withLock(
        locks,
        name,
        async (lease) => {
          expect
            .soft(await inside(), `step ${step}: given the lock while the stopped one is inside`)
            .toBe(false);
          const entered = (await lines()).filter((line) => line === 'in').length;
          holder.child.kill('SIGCONT');
          await holder.exited;
          // Resumed, it finished whatever it was doing without entering, and left this lock alone.
          expect
            .soft(
              (await lines()).filter((line) => line === 'in').length,
              `step ${step}: the resumed one entered while this one holds the lock`,
            )
            .toBe(entered);
          expect
            .soft(await lockHolder(locks, name), `step ${step}: this holder's record`)
            .toBe(process.pid);
          expect.soft(lease.compromised, `step ${step}: lost its lock`).toBe(false);
          const third = await withLock(locks, name, async () => 'taken twice', {
            staleMs,
            waitMs: 200,
          }).catch((error: unknown) => error);
          expect
            .soft(third, `step ${step}: a third process took the lock this one holds`)
            .toMatchObject({
              code: 'lock_timeout',
            });
          expect
            .soft(await lockHolder(locks, name), `step ${step}: the third one removed this record`)
            .toBe(process.pid);
          return 'taken';
        },
        { staleMs, waitMs: 300 },
      ).catch((error: unknown) => {
        if (isLabError(error)) return error;
        throw error;
      });
      if (outcome !== 'taken') {
        // Stopped while it held the lock: it keeps it, and finishes once resumed.
        expect(outcome, `step ${step}`).toMatchObject({ code: 'lock_timeout' });
        holder.child.kill('SIGCONT');
        await holder.exited;
        expect(await lines(), `step ${step}`).toContain('done');
      }
      // Nothing left behind blocks the next taker.
      expect(await withLock(locks, name, async () => 'free', { staleMs, waitMs: 1000 })).toBe(
        'free',
      );
    }
    expect(stepsSeen).toBeGreaterThan(3);
  }, 120_000);
});
