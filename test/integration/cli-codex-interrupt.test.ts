/**
 * A signal to `codex-lab codex` while Codex runs: the real command (`node bin/codex-lab.mjs`)
 * runs a stand-in Codex that records the signals it gets. Outside a terminal, SIGINT sent to the
 * command's own pid reaches Codex through it; in a terminal (a pty from `script`), Ctrl-C reaches
 * the whole process group, so Codex gets it once, from the terminal. Either way the command exits
 * with the signal's code once Codex has gone, and leaves nothing running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processIsAlive } from '../../core/service/router-info.ts';
import { cliEntry, freePort, makeTempHome, repoRoot, runCodexLab } from '../helpers/cli.ts';

let home: string;
let port: number;
let bin: string;
let record: string;

beforeEach(async () => {
  home = await makeTempHome();
  port = await freePort();
  bin = join(home, 'fake-codex');
  record = join(home, 'codex-signals.log');
  await mkdir(join(home, 'codex-home'), { recursive: true });
  // A Codex that handles a stop signal itself and exits 0 (as Codex's TUI does on Ctrl-C), and
  // exits 0 on its own after a while, so a command that never passes the signal on still ends.
  await writeFile(
    bin,
    `#!${process.execPath}\n` +
      `const fs = require('node:fs');\n` +
      `const log = (line) => fs.appendFileSync(${JSON.stringify(record)}, line + '\\n');\n` +
      `log('pid ' + process.pid);\n` +
      `log('ppid ' + process.ppid);\n` +
      `for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {\n` +
      `  process.on(signal, () => { log(signal); setTimeout(() => process.exit(0), 200); });\n` +
      `}\n` +
      `setTimeout(() => { log('no signal'); process.exit(0); }, 6000);\n` +
      `process.stdout.write('fake codex ready\\n');\n`,
  );
  await chmod(bin, 0o755);
});

afterEach(async () => {
  // The command starts this home's router in the background when none runs.
  await runCodexLab(['stop'], { home });
  await rm(home, { recursive: true, force: true });
});

/** The command's environment: this home, port and stand-in Codex, no developer settings. */
function commandEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('CODEX_LAB_')) env[key] = value;
  }
  return {
    ...env,
    CODEX_LAB_HOME: home,
    CODEX_LAB_PORT: String(port),
    CODEX_LAB_CODEX_BIN: bin,
    CODEX_HOME: join(home, 'codex-home'),
  };
}

/** A running command, its output, and its exit code once it has ended. */
function started(child: ChildProcess): { output: () => string; exited: Promise<number | null> } {
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  return { output: () => output, exited };
}

/** Resolves once the stand-in Codex is up (its line reached the output). */
async function codexReady(run: { output: () => string }): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!run.output().includes('fake codex ready')) {
    if (Date.now() > deadline) throw new Error(`Codex did not start:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** What the stand-in Codex recorded: its pid, its parent's pid and the signals it got. */
async function recorded(): Promise<{ pid: number; ppid: number; signals: string[] }> {
  const lines = (await readFile(record, 'utf8')).trim().split('\n');
  const number = (prefix: string) =>
    Number(lines.find((line) => line.startsWith(prefix))!.slice(prefix.length));
  return {
    pid: number('pid '),
    ppid: number('ppid '),
    signals: lines.filter((line) => !/^p?pid /.test(line)),
  };
}

const exitCodeOf = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

describe.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)(
  '%s to codex-lab codex outside a terminal',
  (signal) => {
    it('reaches Codex once, and the command exits with the signal’s code, Codex gone', async () => {
      const child = spawn(process.execPath, [cliEntry, 'codex', '--', 'exec', 'hi'], {
        cwd: repoRoot,
        env: commandEnv(),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const run = started(child);
      try {
        await codexReady(run);
        child.kill(signal);
        expect(await run.exited, run.output()).toBe(exitCodeOf[signal]);
        const seen = await recorded();
        expect(seen.signals).toEqual([signal]);
        expect(processIsAlive(seen.pid)).toBe(false);
      } finally {
        child.kill('SIGKILL');
      }
    });
  },
);

describe('Ctrl-C on codex-lab codex in a terminal', () => {
  it('reaches Codex once, from the terminal, and the command exits 130, Codex gone', async () => {
    // `script` gives the command a terminal, with the command leading its process group, as a
    // shell's foreground job does; Ctrl-C there is SIGINT to that whole group.
    const quoted = [process.execPath, cliEntry, 'codex', '--', 'exec', 'hi']
      .map((word) => `'${word}'`)
      .join(' ');
    const child = spawn('script', ['-qec', `exec ${quoted}`, '/dev/null'], {
      cwd: repoRoot,
      env: commandEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const run = started(child);
    try {
      await codexReady(run);
      const { ppid } = await recorded();
      process.kill(-ppid, 'SIGINT');
      expect(await run.exited, run.output()).toBe(130);
      const seen = await recorded();
      expect(seen.signals).toEqual(['SIGINT']);
      expect(processIsAlive(seen.pid)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

/**
 * A stand-in Codex that records, then ignores, every stop signal (it exits on its own only after
 * a minute, long past any wait here).
 */
async function writeStubbornCodex(): Promise<void> {
  await writeFile(
    bin,
    `#!${process.execPath}\n` +
      `const fs = require('node:fs');\n` +
      `const log = (line) => fs.appendFileSync(${JSON.stringify(record)}, line + '\\n');\n` +
      `log('pid ' + process.pid);\n` +
      `log('ppid ' + process.ppid);\n` +
      `for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => log(signal));\n` +
      `setTimeout(() => { log('no signal'); process.exit(0); }, 60000);\n` +
      `process.stdout.write('fake codex ready\\n');\n`,
  );
}

/** Resolves once the stand-in Codex has recorded `count` signals. */
async function signalsRecorded(count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await recorded()).signals.length < count) {
    if (Date.now() > deadline) throw new Error(`Codex recorded fewer than ${count} signals`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a Codex that ignores the stop signal', () => {
  beforeEach(writeStubbornCodex);

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'is killed at a second %s, and the command exits with the first one’s code',
    async (signal) => {
      const child = spawn(process.execPath, [cliEntry, 'codex', '--', 'exec', 'hi'], {
        cwd: repoRoot,
        env: commandEnv(),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const run = started(child);
      try {
        await codexReady(run);
        child.kill(signal);
        await signalsRecorded(1);
        child.kill(signal);
        expect(await run.exited, run.output()).toBe(exitCodeOf[signal]);
        const seen = await recorded();
        expect(seen.signals).toEqual([signal]);
        expect(processIsAlive(seen.pid)).toBe(false);
        expect(run.output()).toContain(
          `codex-lab: Codex was still running at a second ${signal}, so it was killed.\n`,
        );
      } finally {
        child.kill('SIGKILL');
      }
    },
  );

  it('is killed once the grace period has passed, and the command exits 143', async () => {
    const child = spawn(process.execPath, [cliEntry, 'codex', '--', 'exec', 'hi'], {
      cwd: repoRoot,
      env: { ...commandEnv(), CODEX_LAB_CODEX_STOP_GRACE_MS: '500' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const run = started(child);
    try {
      await codexReady(run);
      child.kill('SIGTERM');
      expect(await run.exited, run.output()).toBe(143);
      const seen = await recorded();
      expect(seen.signals).toEqual(['SIGTERM']);
      expect(processIsAlive(seen.pid)).toBe(false);
      expect(run.output()).toContain(
        'codex-lab: Codex was still running 0.5 s after SIGTERM, so it was killed.\n',
      );
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('a Codex that exits by itself after the stop signal, within the grace period', () => {
  it('is not killed, and the command exits with the signal’s code as before', async () => {
    const child = spawn(process.execPath, [cliEntry, 'codex', '--', 'exec', 'hi'], {
      cwd: repoRoot,
      // The stand-in exits 200 ms after the signal: well within the grace period.
      env: { ...commandEnv(), CODEX_LAB_CODEX_STOP_GRACE_MS: '5000' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const run = started(child);
    try {
      await codexReady(run);
      child.kill('SIGTERM');
      expect(await run.exited, run.output()).toBe(143);
      expect((await recorded()).signals).toEqual(['SIGTERM']);
      expect(run.output()).not.toContain('killed');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
