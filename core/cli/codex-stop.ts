/**
 * How `codex-lab codex` stops the Codex it runs when it is asked to stop (docs/architecture.md,
 * "codex-lab codex"): the first stop signal is Codex's to handle (passed on, or already had from
 * the terminal); a second one, or Codex still running `graceMs` after the first, kills it, as
 * `docker stop` and `docker compose` do. So a Codex that ignores the signal never keeps the
 * command waiting forever. The child and the time are injected: a unit test drives it with a fake
 * clock, the command with the real child process.
 */
import type { Clock } from '../ports.ts';
import type { StopSignal } from './critical-exit.ts';

/**
 * How long Codex has to exit after the first stop signal when `CODEX_LAB_CODEX_STOP_GRACE_MS` is
 * unset: `docker stop`'s 10 s.
 */
export const defaultCodexStopGraceMs = 10_000;

/** The child as the stopper needs it: `kill` as `ChildProcess.kill` has it. */
export interface StoppableChild {
  kill(signal: NodeJS.Signals): boolean;
}

/** What the stopper is given. */
export interface CodexStopOptions {
  child: StoppableChild;
  clock: Clock;
  /** How long Codex has to exit after the first stop signal before it is killed. */
  graceMs: number;
  /**
   * True when a terminal's Ctrl-C reaches Codex's process group itself: SIGINT is then not passed
   * on (Codex would get it twice). SIGTERM and SIGHUP are passed on either way.
   */
  interactive: boolean;
  /** Says the one sentence when Codex is killed. */
  say(line: string): void;
}

/** The stopper of one Codex run. */
export interface CodexStop {
  /** A stop signal reached this process. */
  signalled(signal: StopSignal): void;
  /** Codex has exited (its grace timer, if any, is cancelled). */
  exited(): void;
  /** The first stop signal this process got; null when none (the command exits with it). */
  readonly stoppedBy: StopSignal | null;
}

/** Starts watching for stop signals for one Codex run. */
export function codexStop(options: CodexStopOptions): CodexStop {
  let stoppedBy: StopSignal | null = null;
  let cancelGrace: (() => void) | null = null;
  let done = false;
  const kill = (when: string): void => {
    if (done) return;
    done = true;
    cancelGrace?.();
    // SIGKILL cannot be caught or ignored; on Windows `kill` ends the process whatever the signal.
    options.child.kill('SIGKILL');
    options.say(`codex-lab: Codex was still running ${when}, so it was killed.`);
  };
  return {
    signalled(signal) {
      if (done) return;
      if (stoppedBy !== null) {
        return kill(
          signal === stoppedBy ? `at a second ${signal}` : `after ${stoppedBy} and ${signal}`,
        );
      }
      stoppedBy = signal;
      if (signal !== 'SIGINT' || !options.interactive) options.child.kill(signal);
      const first = signal;
      cancelGrace = options.clock.setTimeout(
        () => kill(`${seconds(options.graceMs)} after ${first}`),
        options.graceMs,
      );
    },
    exited() {
      done = true;
      cancelGrace?.();
    },
    get stoppedBy() {
      return stoppedBy;
    },
  };
}

/** A grace period in words: "10 s", "0.2 s". */
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
