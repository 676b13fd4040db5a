/**
 * A bounded ring of recent routing decisions for the activity log and the "why this account"
 * view. Recording stores the policy's own objects and a number; ISO times and views are built only
 * when someone reads.
 */
import type { DecisionView, RouteReason } from '../view-types.ts';

/** One decision as recorded (time in Unix ms). */
export interface DecisionRecord {
  at: number;
  sessionId: string | null;
  profile: string | null;
  route: RouteReason | null;
  detail: string;
  excluded: readonly { profile: string; reason: string }[];
}

/** Called after each recorded decision. */
export type DecisionListener = (record: DecisionRecord) => void;

/** Default number of decisions kept. */
export const defaultDecisionCapacity = 500;

/** A fixed-size ring of decisions with listeners. */
export class DecisionLog {
  readonly #ring: (DecisionRecord | undefined)[];
  #next = 0;
  #count = 0;
  readonly #listeners = new Set<DecisionListener>();

  constructor(capacity = defaultDecisionCapacity) {
    this.#ring = new Array<DecisionRecord | undefined>(Math.max(1, capacity));
  }

  /** How many decisions are held. */
  get size(): number {
    return this.#count;
  }

  /** Records a decision (the record is kept as given; do not mutate it afterwards). */
  record(record: DecisionRecord): void {
    this.#ring[this.#next] = record;
    this.#next = (this.#next + 1) % this.#ring.length;
    if (this.#count < this.#ring.length) this.#count++;
    for (const listener of this.#listeners) {
      try {
        listener(record);
      } catch {
        // A broken listener (UI, activity log) must never break routing.
      }
    }
  }

  /** Puts back decisions read from the journal (oldest first), without notifying listeners. */
  restore(records: readonly DecisionRecord[]): void {
    for (const record of records) {
      this.#ring[this.#next] = record;
      this.#next = (this.#next + 1) % this.#ring.length;
      if (this.#count < this.#ring.length) this.#count++;
    }
  }

  /** Subscribes to new decisions; returns the unsubscribe function. */
  onRecord(listener: DecisionListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** The `limit` newest decisions, newest first, as contract views. */
  list(limit = this.#ring.length): DecisionView[] {
    const views: DecisionView[] = [];
    const length = this.#ring.length;
    for (let offset = 1; offset <= Math.min(limit, this.#count); offset++) {
      const record = this.#ring[(this.#next - offset + length) % length];
      if (record) views.push(toDecisionView(record));
    }
    return views;
  }

  /** Forgets everything. */
  clear(): void {
    this.#ring.fill(undefined);
    this.#next = 0;
    this.#count = 0;
  }
}

/** A recorded decision as the contract's `DecisionView` (ISO time, plain excluded list). */
export function toDecisionView(record: DecisionRecord): DecisionView {
  return {
    at: new Date(record.at).toISOString(),
    sessionId: record.sessionId,
    profile: record.profile,
    route: record.route,
    detail: record.detail,
    excluded: record.excluded.map(({ profile, reason }) => ({ profile, reason })),
  };
}
