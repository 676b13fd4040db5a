/**
 * The running router's live state, for the commands that show profiles (`list`, `usage`,
 * `usage --pool`) and the request log (`log`): what it routes by (an account whose circuit is
 * open, the repo just used) and its newest requests are in no file yet, so while a router runs
 * they show what it shows the dashboard and the tray.
 */
import type { LabState } from '../service/contract.ts';
import type { CliContext } from './context.ts';

/**
 * The live state of this home's running router, or null when none runs, it cannot be trusted or
 * it does not answer within `timeoutMs`, finding it and asking its state together (the caller
 * then shows the files). With no router record
 * it returns at once, loading nothing more: `list` stays lean (docs/benchmarks.md, "CLI cold
 * start").
 */
export async function liveLabState(
  context: CliContext,
  timeoutMs = 1500,
): Promise<LabState | null> {
  const deadline = Date.now() + timeoutMs;
  const router = await liveRouter(context, timeoutMs);
  const left = deadline - Date.now();
  if (router === null || left <= 0) return null;
  return router(left);
}

/**
 * This home's running router, found once (null when none runs or it cannot be trusted, as for
 * `liveLabState`), as a function that asks it for its state each time it is called (null when it
 * does not answer within `timeoutMs`): for a command that asks again, such as `log --follow`.
 */
export async function liveRouter(
  context: CliContext,
  timeoutMs = 1500,
): Promise<((timeoutMs?: number) => Promise<LabState | null>) | null> {
  const { readRouterRecord } = await import('../service/router-info.ts');
  const record = await readRouterRecord(context.paths).catch(() => null);
  if (record === null || !record.ok) return null;
  const { discoverRouter } = await import('../service/router-discovery.ts');
  const found = await discoverRouter(context.paths, { timeoutMs }).catch(() => null);
  if (found?.state !== 'running') return null;
  const { RemoteLab } = await import('../service/remote-lab.ts');
  const lab = new RemoteLab({ url: found.url, token: found.token });
  return (wait = timeoutMs) => lab.getState({ timeoutMs: wait }).catch(() => null);
}

/**
 * `views` (built from the files) with the running router's live view of each profile in their
 * place: its health, quota and whether it skips the profile for failing upstream.
 */
export function withLiveViews<View extends { name: string }>(
  views: View[],
  live: readonly View[],
): View[] {
  return views.map((view) => live.find((other) => other.name === view.name) ?? view);
}
