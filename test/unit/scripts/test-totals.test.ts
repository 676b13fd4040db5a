/** `npm test`'s last line: the total over its lanes never reads as a pass when a lane failed. */
import { describe, expect, it } from 'vitest';
import { laneTotals } from '../../../scripts/test-totals.mjs';

const report = (fields: Record<string, unknown>) =>
  JSON.stringify({
    numPassedTests: 0,
    numFailedTests: 0,
    numPendingTests: 0,
    numTodoTests: 0,
    testResults: [],
    ...fields,
  });

describe('laneTotals', () => {
  it('sums the lanes’ passed, failed and skipped tests', () => {
    expect(
      laneTotals([
        { report: report({ numPassedTests: 10, numPendingTests: 2 }), status: 0 },
        { report: report({ numPassedTests: 5, numFailedTests: 1, numTodoTests: 1 }), status: 1 },
      ]),
    ).toEqual({ passed: 15, failed: 1, skipped: 3 });
  });

  it('counts a lane with no report, or a cut-off one, as a failure', () => {
    expect(laneTotals([{ report: null, status: 1 }])).toEqual({
      passed: 0,
      failed: 1,
      skipped: 0,
    });
    const cut = report({ numPassedTests: 3 }).slice(0, 20);
    expect(laneTotals([{ report: cut, status: 0 }]).failed).toBe(1);
  });

  it('counts a lane that exited non-zero with no failed test as a failure', () => {
    expect(
      laneTotals([{ report: report({ numPassedTests: 4, numPendingTests: 2 }), status: 1 }]),
    ).toEqual({ passed: 4, failed: 1, skipped: 2 });
  });

  it('counts a file that failed to load, which has no tests of its own', () => {
    const failedFile = { status: 'failed', assertionResults: [] };
    expect(
      laneTotals([{ report: report({ numPassedTests: 2, testResults: [failedFile] }), status: 1 }])
        .failed,
    ).toBe(1);
  });
});
