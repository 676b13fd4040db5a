// Cross-process locks under random kills: N worker processes take one lock in a loop (as
// refreshes of one profile do), each marking itself inside while it holds it, while one of them is
// SIGKILLed every 0.1–0.5 s and replaced. A worker that finds another live worker inside while it
// holds the lock is an overlap: two processes that could spend one refresh token. Prints the
// kills, the lock-holding rounds, the overlaps and the lock errors; exits 1 on any overlap.
//
//   node test/soak/lock-race.ts [workers] [seconds]        (default 8 workers, 25 s)
import { spawn, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [mode, ...rest] = process.argv.slice(2);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

if (mode === 'worker') {
  const folder = rest[0]!;
  const { withLock } = await import('../../core/home/lock.ts');
  const inside = join(folder, 'inside');
  for (;;) {
    try {
      await withLock(join(folder, 'locks'), 'refresh-p0', async () => {
        const mine = join(inside, String(process.pid));
        writeFileSync(mine, '');
        const others = readdirSync(inside)
          .map(Number)
          .filter((pid) => pid !== process.pid && alive(pid));
        if (others.length > 0) {
          appendFileSync(join(folder, 'overlaps'), `${process.pid} with ${others.join(',')}\n`);
        }
        appendFileSync(join(folder, 'rounds'), '.');
        await new Promise((resolve) => setTimeout(resolve, 3 + Math.random() * 10));
        unlinkSync(mine);
      });
    } catch (error) {
      const failure = error as { code?: string; message?: string };
      appendFileSync(join(folder, 'errors'), `${failure.code}: ${failure.message}\n`);
    }
  }
} else {
  const workers = Number(mode ?? 8);
  const seconds = Number(rest[0] ?? 25);
  const folder = mkdtempSync(join(tmpdir(), 'codex-lab-lock-race-'));
  mkdirSync(join(folder, 'inside'));
  const running = new Set<ChildProcess>();
  const start = (): void => {
    const child = spawn(process.execPath, [import.meta.filename, 'worker', folder], {
      stdio: 'inherit',
    });
    running.add(child);
    child.on('close', () => running.delete(child));
  };
  for (let index = 0; index < workers; index += 1) start();
  const end = Date.now() + seconds * 1000;
  let kills = 0;
  while (Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 400));
    const all = [...running];
    all[Math.floor(Math.random() * all.length)]?.kill('SIGKILL');
    kills += 1;
    start();
  }
  for (const child of running) child.kill('SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const read = (name: string): string => {
    try {
      return readFileSync(join(folder, name), 'utf8');
    } catch {
      return '';
    }
  };
  const overlaps = read('overlaps').split('\n').filter(Boolean);
  const errors = read('errors').split('\n').filter(Boolean);
  console.log(
    `${workers} workers, ${seconds} s: ${kills} kills, ${read('rounds').length} rounds holding the lock, ${overlaps.length} overlaps, ${errors.length} lock errors`,
  );
  for (const line of [...overlaps, ...errors].slice(0, 5)) console.log(`  ${line}`);
  rmSync(folder, { recursive: true, force: true });
  process.exitCode = overlaps.length > 0 ? 1 : 0;
}
