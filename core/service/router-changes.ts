/**
 * Changes this process has asked a router to make and not yet heard back about. The router
 * applies a change fully or not at all whether or not anyone still waits for its answer, so a
 * command interrupted meanwhile says that the change still happens, rather than leaving the user
 * to take it for undone.
 */

/**
 * One change in a router's hands: the control-API operation, what it is called, the router's URL.
 */
export interface RouterChange {
  operation: string;
  url: string;
  /** What the change is called in a sentence ("rename"; `core/service/remote-lab.ts`). */
  what: string;
}

const inFlight = new Set<RouterChange>();

/** Keeps `change` listed while `work` (the call that asked for it) runs. */
export async function trackRouterChange<T>(change: RouterChange, work: Promise<T>): Promise<T> {
  inFlight.add(change);
  try {
    return await work;
  } finally {
    inFlight.delete(change);
  }
}

/** The changes asked of a router that have not been answered yet, oldest first. */
export function routerChangesInFlight(): RouterChange[] {
  return [...inFlight];
}
