/**
 * The activity log: a bounded, in-memory list of what the router and the service did (routes,
 * fallbacks, limits, sign-in problems, refreshes, priming, profile edits, logins), newest last.
 * Messages are plain sentences written by the core; they never carry a token. Every message is
 * made one sentence on the way in (one full stop at the end); moments in it stay ISO times, which
 * each surface words where it shows them (`humanizeTimes` in `core/format.ts`): in the reader's
 * time zone, with a countdown that is true when read ("until 14:05 (in 2h 3m)"), not when written.
 */
import type { ActivityRecorder, Clock } from '../ports.ts';
import type { ActivityEntry, ActivityKind } from '../view-types.ts';

/** Default number of entries kept. */
export const defaultActivityCapacity = 500;

/** A bounded activity log with change notification. */
export class ActivityLog implements ActivityRecorder {
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
      message: activitySentence(message),
    };
    this.#entries.push(entry);
    if (this.#entries.length > this.#capacity) {
      this.#entries.splice(0, this.#entries.length - this.#capacity);
    }
    for (const listener of this.#listeners) listener(entry);
    return entry;
  }

  /** Puts back entries read from the journal (oldest first), without notifying listeners. */
  restore(entries: readonly ActivityEntry[]): void {
    for (const entry of entries) {
      this.#entries.push(entry);
      if (entry.id >= this.#nextId) this.#nextId = entry.id + 1;
    }
    if (this.#entries.length > this.#capacity) {
      this.#entries.splice(0, this.#entries.length - this.#capacity);
    }
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

/** One sentence: single spaces and one full stop at the end (moments stay ISO for the reader). */
export function activitySentence(message: string): string {
  const text = message.trim().replace(/\s+/g, ' ');
  // No forced capital: many messages start with a profile name, which is lower-case.
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** The activity line for one priming attempt or outcome (window, outcome and what happened). */
export function primingActivityMessage(event: {
  window: 'weekly' | 'five_hour';
  outcome: string;
  message: string;
}): string {
  const window = event.window === 'weekly' ? 'weekly' : '5-hour';
  return `Priming (${window} window, ${event.outcome.replace('_', ' ')}): ${event.message}`;
}
