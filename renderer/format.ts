/**
 * The page's words: everything about time, windows and statuses comes from the shared formatting
 * module (`core/format.ts`), so the dashboard says what the CLI and the tray say; this file only
 * adapts it to the page's inputs and adds the sign-in failure explanations.
 */
import {
  capitalize,
  formatAgoSince,
  formatBackAt,
  formatClockTime,
  formatIn,
  formatLogStamp,
  windowName,
} from '../core/format.ts';
import type { QuotaWindowView } from '../core/service/contract.ts';

export { formatDuration, formatLatency, statusLabel } from '../core/format.ts';

/** "resets in 3h 12m" / "reset time unknown". */
export function formatReset(resetsAt: string | null, now: number): string {
  if (!resetsAt) return 'reset time unknown';
  const at = Date.parse(resetsAt);
  if (Number.isNaN(at)) return 'reset time unknown';
  if (at <= now) return 'resetting now';
  return `resets ${formatIn(at - now)}`;
}

/** "just now", "5m ago", "3h 5m ago", "never". */
export function formatAgo(iso: string | null, now: number): string {
  return formatAgoSince(iso, now);
}

/**
 * "14:05:09": a log entry's local time, with the date when not from today ("28 Nov 14:05:09"),
 * as `codex-lab log` shows it. `timeZone` pins it in tests.
 */
export function formatClock(iso: string, now: number = Date.now(), timeZone?: string): string {
  const at = Date.parse(iso);
  return Number.isNaN(at) ? '' : formatLogStamp(at, { now, ...(timeZone ? { timeZone } : {}) });
}

/** "5-hour" / "Weekly" / "1-day": the name of a quota window, capitalised for a title. */
export function windowTitle(window: QuotaWindowView | null, fallback: string): string {
  const minutes = window?.windowMinutes;
  if (!minutes) return fallback;
  return capitalize(windowName(minutes));
}

/** Plain words for a sign-in failure code. */
export function explainLoginError(code: string, message: string): string {
  switch (code) {
    case 'auth_denied':
      return 'The sign-in was declined on the ChatGPT page, so nothing was saved. Try again and choose “Continue”.';
    case 'auth_timeout':
      return 'The sign-in took too long and timed out. Start it again and finish it within a few minutes.';
    case 'port_in_use':
      return 'Another program (often another Codex sign-in) is using the sign-in callback port. Close it and try again.';
    case 'auth_cancelled':
      return 'The sign-in was cancelled.';
    case 'auth_state_mismatch':
      return 'The sign-in answer did not match this request (an old browser tab?). Start again.';
    case 'workspace_restricted':
      return 'That workspace does not allow Codex sign-in for this account.';
    default:
      return message;
  }
}

/**
 * "back in 59m, at 14:30" for a limited profile, or null when the end of the limit is unknown or
 * already past. `timeZone` pins the clock part in tests.
 */
export function formatLimitedUntil(
  until: string | null,
  now: number,
  timeZone?: string,
): string | null {
  const back = formatBackAt(until, { now, ...(timeZone ? { timeZone } : {}) });
  return back === null ? null : `back ${back}`;
}

/** "14:05" when within the next 20 hours, else "Thu 14:05" (the shared clock-time words). */
export function formatAt(iso: string, now: number, timeZone?: string): string {
  return formatClockTime(Date.parse(iso), { now, timeZone });
}

/** "1.2k", "850", "3.4M": a token count at a glance. */
export function formatCount(count: number): string {
  if (count >= 1_000_000) return `${(count / 1_000_000).toFixed(1)}M`;
  if (count >= 10_000) return `${Math.round(count / 1000)}k`;
  if (count >= 1000) return `${(count / 1000).toFixed(1)}k`;
  return String(count);
}

/**
 * What removing a profile takes with it, asked before it happens: its pins, and the routing mode
 * when it is the active profile (new sessions go back to Auto).
 */
export function removalQuestion(name: string, pins: number, active: boolean): string {
  const losses = [
    ...(pins > 0 ? [`its ${pins} pin${pins === 1 ? ' goes' : 's go'}`] : []),
    ...(active ? ['new sessions go back to Auto'] : []),
  ];
  if (losses.length === 0) return `Remove ${name}? Other profiles stay.`;
  return `Remove ${name}? ${capitalize(losses.join(' and '))}; other profiles stay.`;
}

/**
 * A profile's status sentence for its card, where a "Sign in again" button stands beside it: the
 * command-line hint the core adds for the terminal ("…: run codex-lab login work", "sign in
 * again with: codex-lab login work") is dropped, and the sentence points at the button instead.
 */
export function cardStatusMessage(message: string, needsSignIn: boolean): string {
  if (!needsSignIn) return message;
  const hint =
    /[\s;:,.]*(?:then\s+)?(?:run|sign in again with:?)\s+`?codex-lab login [a-z0-9._-]+`?[\s.]*$/i;
  if (!hint.test(message)) return message;
  const rest = message.replace(hint, '');
  return `${rest === '' ? 'This account needs a new sign-in' : rest}: use Sign in again below.`;
}
