/**
 * Work a process must finish before it exits: between a refresh request reaching the issuer and
 * the rotated tokens reaching the disk, an exit loses the only valid refresh token. Code that
 * spends a single-use token runs that stretch through `runCritical`; a command that receives
 * SIGINT or SIGTERM awaits `criticalWorkSettled` before it exits (docs/storage.md).
 */

const pending = new Set<Promise<unknown>>();

/** Runs `work` and keeps it registered as unfinished until it settles. */
export function runCritical<T>(work: () => Promise<T>): Promise<T> {
  const running = work();
  const tracked = running.then(
    () => undefined,
    () => undefined,
  );
  pending.add(tracked);
  void tracked.finally(() => pending.delete(tracked));
  return running;
}

/** How many critical sections are running now. */
export function criticalWorkPending(): number {
  return pending.size;
}

/** Resolves once every critical section started so far (and any they start) has settled. */
export async function criticalWorkSettled(): Promise<void> {
  while (pending.size > 0) await Promise.all(pending);
}
