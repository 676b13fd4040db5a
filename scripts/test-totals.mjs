// The plain total `npm test` prints last, summed over its Vitest runs' JSON reports.

/**
 * Sums lanes into `{ passed, failed, skipped }`. Each lane is `{ report, status }`: its JSON
 * report's text (null when it wrote none) and its exit status.
 */
export function laneTotals(lanes) {
  const total = { passed: 0, failed: 0, skipped: 0 };
  for (const { report, status } of lanes) {
    let results;
    try {
      results = JSON.parse(report ?? '');
    } catch {
      // No report, or a cut-off one (the run crashed while writing it): the lane failed.
      total.failed += 1;
      continue;
    }
    const failed =
      (results.numFailedTests ?? 0) +
      // A file that failed to load has no tests to count: count it as a failure so it cannot hide.
      (results.testResults ?? []).filter(
        (file) => file.status === 'failed' && (file.assertionResults ?? []).length === 0,
      ).length;
    total.passed += results.numPassedTests ?? 0;
    total.skipped += (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
    // A run that failed with every test passing (an unhandled error, a failed hook that left its
    // tests skipped) still failed: the total must not read as a pass.
    total.failed += failed > 0 || status === 0 ? failed : 1;
  }
  return total;
}
