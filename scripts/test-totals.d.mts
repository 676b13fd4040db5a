/** Types for `test-totals.mjs`. */

/** One Vitest run: its JSON report's text (null when it wrote none) and its exit status. */
export interface LaneOutcome {
  report: string | null;
  status: number;
}

/** Sums lanes into the plain total; a lane that failed never reads as a pass. */
export function laneTotals(lanes: readonly LaneOutcome[]): {
  passed: number;
  failed: number;
  skipped: number;
};
