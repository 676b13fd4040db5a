/**
 * Work a process must finish before it exits: between a refresh request reaching the issuer and
 * the rotated tokens reaching the disk, an exit loses the only valid refresh token. Code that
 * spends a single-use token runs that stretch through `runCritical`; a command that receives
 * SIGINT or SIGTERM awaits `criticalWorkSettled` before it exits (docs/storage.md).
 */
import { PendingWork } from '../ports.ts';

const pending = new PendingWork();

/** Runs `work` and keeps it registered as unfinished until it settles. */
export function runCritical<T>(work: () => Promise<T>): Promise<T> {
  return pending.track(work());
}

/** How many critical sections are running now. */
export function criticalWorkPending(): number {
  return pending.size;
}

/** Resolves once every critical section started so far (and any they start) has settled. */
export function criticalWorkSettled(): Promise<void> {
  return pending.settled();
}
