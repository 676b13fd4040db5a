/**
 * Windows refusing a rename over a file another program holds open, played on any platform:
 * write-file-atomic calls `fs.rename` of the fs module at each write, so a spy on it refuses the
 * library's renames (and nothing that renames through `fs/promises`, such as the locks).
 */
import fs from 'node:fs';
import { vi } from 'vitest';
import type { Clock } from '../../core/ports.ts';

/** A rename error as Windows gives it while another program holds the target open. */
export function heldOpenError(code: string, from: string, to: string): NodeJS.ErrnoException {
  const error = new Error(
    `${code}: operation not permitted, rename '${from}' -> '${to}'`,
  ) as NodeJS.ErrnoException;
  error.code = code;
  error.syscall = 'rename';
  return error;
}

type Callback = (error: NodeJS.ErrnoException | null) => void;

/**
 * Refuses the next `failures` renames onto `target` (any target when omitted) with `code`, then
 * lets them through; `tries` counts the renames onto it. Undone by `vi.restoreAllMocks()`.
 */
export function refuseRenames(
  failures: number,
  options: { code?: string; target?: string } = {},
): { tries: () => number } {
  const real = fs.rename.bind(fs);
  let tries = 0;
  vi.spyOn(fs, 'rename').mockImplementation(((
    from: fs.PathLike,
    to: fs.PathLike,
    callback: Callback,
  ) => {
    if (options.target !== undefined && String(to) !== options.target) {
      real(from, to, callback);
      return;
    }
    tries += 1;
    if (tries <= failures) {
      const error = heldOpenError(options.code ?? 'EPERM', String(from), String(to));
      queueMicrotask(() => callback(error));
      return;
    }
    real(from, to, callback);
  }) as typeof fs.rename);
  return { tries: () => tries };
}

/**
 * Refuses write-file-atomic's removal of the temp files of writes to `target` (a scanner holding
 * the new file too), as `refuseRenames` does its renames.
 */
export function refuseTempRemoval(target: string): void {
  const real = fs.unlink.bind(fs);
  vi.spyOn(fs, 'unlink').mockImplementation(((path: fs.PathLike, callback: Callback) => {
    if (!String(path).startsWith(`${target}.`)) {
      real(path, callback);
      return;
    }
    const error = new Error('EPERM: operation not permitted') as NodeJS.ErrnoException;
    error.code = 'EPERM';
    queueMicrotask(() => callback(error));
  }) as typeof fs.unlink);
}

/**
 * A clock whose timers fire at once, moving its time on by their delay: a retry's waits are
 * recorded in `waits`, never slept.
 */
export function instantClock(start = 1_000_000): Clock & { waits: number[] } {
  let now = start;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    setTimeout(callback, delayMs) {
      waits.push(delayMs);
      now += delayMs;
      queueMicrotask(callback);
      return () => undefined;
    },
  };
}
