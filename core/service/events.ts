/**
 * The activity log: a bounded, in-memory list of what the router and the service did (routes,
 * fallbacks, limits, sign-in problems, refreshes, priming, profile edits, logins), newest last.
 * Messages are plain sentences written by the core; they never carry a token.
 */
import type { ActivityEntry, ActivityKind } from './contract.ts';
import type { Clock } from '../ports.ts';

/** Default number of entries kept. */
export const defaultActivityCapacity = 500;

/** A bounded activity log with change notification. */
export class ActivityLog {
  readonly #clock: Clock;
  readonly #capacity: number;
  readonly #entries: ActivityEntry[] = [];
  readonly #listeners = new Set<(entry: ActivityEntry) => void>();
  #nextId = 1;

  constructor(clock: Clock, capacity: number = defaultActivityCapacity) {
    this.#clock = clock;
    this.#capacity = capacity;
  }

  /** Appends one entry and notifies listeners. */
  add(kind: ActivityKind, profile: string | null, message: string): ActivityEntry {
    const entry: ActivityEntry = {
      id: this.#nextId++,
      at: new Date(this.#clock.now()).toISOString(),
      kind,
      profile,
      message,
    };
    this.#entries.push(entry);
    if (this.#entries.length > this.#capacity) {
      this.#entries.splice(0, this.#entries.length - this.#capacity);
    }
    for (const listener of this.#listeners) listener(entry);
    return entry;
  }

  /** The most recent `limit` entries, oldest first. */
  list(limit: number = this.#capacity): ActivityEntry[] {
    return this.#entries.slice(-limit);
  }

  /** Calls `listener` for every new entry; returns an unsubscribe function. */
  subscribe(listener: (entry: ActivityEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
