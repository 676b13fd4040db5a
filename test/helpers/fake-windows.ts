/** Quota windows for fake accounts, shared by the priming tests. */
import type { FakeWindow } from '../fakes/accounts.ts';
import type { FakeChatGpt } from '../fakes/fake-chatgpt.ts';

/** A weekly window that has not started yet (what priming waits for), resetting a week after `nowSeconds`. */
export function unstartedWeekly(nowSeconds: number): FakeWindow {
  return {
    usedPercent: 0,
    windowMinutes: 10080,
    resetAt: nowSeconds + 10080 * 60,
    unstarted: true,
  };
}

/** Adds one account per email with no 5-hour window and an unstarted weekly window. */
export function addUnstartedAccounts(
  fake: FakeChatGpt,
  emails: readonly string[],
  nowSeconds: number,
): void {
  for (const email of emails) {
    fake.addAccount({ email, primary: null, secondary: unstartedWeekly(nowSeconds) });
  }
}
