/**
 * Finding the running router for this `CODEX_LAB_HOME`: `state/router.json` names a live process
 * and port, and the router there proves (identity answer) that it holds this home's token. Only
 * then does a client send the token. Anything less is reported as `none` (no router), `stale`
 * (a file naming a process or port that is not our router), or `unreachable` (a live process holds
 * the home's `router-run` lock, so a router runs, but `state/router.json` cannot be read or the
 * router does not answer: stopped with Ctrl-Z, or stuck), with one sentence saying why.
 */
import { isLabError } from '../errors.ts';
import type { LabPaths } from '../home/paths.ts';
import { readRouterToken } from '../proxy/router-token.ts';
import { identityNonce, identityPath, verifyIdentity, type RouterIdentity } from './identity.ts';
import { loopbackJson } from './loopback-http.ts';
import { readRouterRecord, routerRunHolder, routerUrl, type RouterInfo } from './router-info.ts';

/** What discovery found. */
export type RouterDiscovery =
  | {
      state: 'running';
      url: string;
      token: string;
      info: RouterInfo;
      identity: RouterIdentity;
    }
  | { state: 'none' }
  | { state: 'stale'; reason: string }
  /**
   * A router runs (`pid` holds the `router-run` lock) but cannot be used: `reason` says why (no
   * full stop), `advice` what to do (no full stop). Never "no router": starting another would
   * only be refused, and working on the files behind it would go unseen by it until it wakes.
   */
  | {
      state: 'unreachable';
      pid: number;
      reason: string;
      advice: string;
      /**
       * True when waiting a few seconds may help (the router writes an unreadable record again
       * within `routerInfoSettleMs`); false for a router that does not answer, which waiting
       * would only make a caller with a deadline (Codex's token command: 5 s) miss.
       */
      settles: boolean;
    };

/**
 * Why a running router cannot be used when it does not answer (its identity, or a request after
 * it: stopped with Ctrl-Z, or stuck), and what to do; one rule for every client that says so.
 */
export function notAnswering(pid: number, url: string): { reason: string; advice: string } {
  return {
    reason: `A Codex Lab router (pid ${pid}) is running for this home on ${url}, but it does not answer`,
    advice: `if it was stopped (Ctrl-Z), resume it (fg, or kill -CONT ${pid}); otherwise end process ${pid}`,
  };
}

/** Looks for this home's running router (see the module comment). */
export async function discoverRouter(
  paths: LabPaths,
  options: { timeoutMs?: number } = {},
): Promise<RouterDiscovery> {
  const record = await readRouterRecord(paths);
  if (!record.ok) {
    // The router holds its run lock for its whole life: while a live process does, "no router"
    // would be false, and a client would start a second one that is refused.
    const pid = await routerRunHolder(paths).catch(() => null);
    if (pid === null) return { state: 'none' };
    return {
      state: 'unreachable',
      pid,
      reason: `A Codex Lab router (pid ${pid}) is running for this home, but state/router.json cannot be read: ${record.message}`,
      advice: `move away what is in that file's place (the router then writes it again), or end process ${pid}`,
      settles: true,
    };
  }
  const info = record.info;
  const url = routerUrl(info);
  // A token file that does not read is named as such, not taken for a missing one.
  const token = await readRouterToken(paths).catch((error: unknown) =>
    isLabError(error) ? error : undefined,
  );
  if (token === undefined || isLabError(token)) {
    return {
      state: 'stale',
      reason:
        token === undefined
          ? `state/router.json names a router on ${url}, but this home has no router token`
          : `state/router.json names a router on ${url}, but state/router-token does not hold a router token (it was left untouched)`,
    };
  }
  const nonce = identityNonce();
  let answer: unknown;
  try {
    answer = (
      await loopbackJson(`${url}${identityPath}?nonce=${nonce}`, {
        timeoutMs: options.timeoutMs ?? 3000,
      })
    ).json;
  } catch {
    // A live holder of the run lock is a router that is there but not answering (stopped with
    // Ctrl-Z, or stuck): saying "none" would send clients to the files behind its back.
    const pid = await routerRunHolder(paths).catch(() => null);
    if (pid !== null)
      return { state: 'unreachable', pid, ...notAnswering(pid, url), settles: false };
    return {
      state: 'stale',
      reason: `state/router.json names a router on ${url} (pid ${info.pid}), but nothing answers there`,
    };
  }
  if (!verifyIdentity(answer, token, nonce)) {
    return {
      state: 'stale',
      reason: `state/router.json names ${url}, but what answers there is not this home's Codex Lab router`,
    };
  }
  return { state: 'running', url, token, info, identity: answer as RouterIdentity };
}
