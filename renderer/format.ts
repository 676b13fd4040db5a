/**
 * Pure text formatting for the page: durations, relative times, window names, failure wording.
 */
import type { QuotaWindowView } from '../core/service/contract.ts';

/** "2d 4h", "3h 12m", "45s": the two largest units of a duration. */
export function formatDuration(milliseconds: number): string {
  const seconds = Math.max(0, Math.round(milliseconds / 1000));
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m ${seconds % 60}s`;
  return `${seconds}s`;
}

/** "resets in 3h 12m" / "reset time unknown". */
export function formatReset(resetsAt: string | null, now: number): string {
  if (!resetsAt) return 'reset time unknown';
  const at = Date.parse(resetsAt);
  if (Number.isNaN(at)) return 'reset time unknown';
  if (at <= now) return 'resetting now';
  return `resets in ${formatDuration(at - now)}`;
}

/** "just now", "5m ago", "3h ago", or a date. */
export function formatAgo(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return 'unknown';
  const seconds = Math.round((now - at) / 1000);
  if (seconds < 10) return 'just now';
  if (seconds < 3600 * 24) return `${formatDuration(now - at).split(' ')[0]} ago`;
  return new Date(at).toLocaleDateString();
}

/** "14:05:09": a local clock time for log lines. */
export function formatClock(iso: string): string {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? '' : at.toLocaleTimeString([], { hour12: false });
}

/** "5-hour" / "Weekly" / "1-day": the name of a quota window. */
export function windowTitle(window: QuotaWindowView | null, fallback: string): string {
  const minutes = window?.windowMinutes;
  if (!minutes) return fallback;
  if (minutes === 10080) return 'Weekly';
  if (minutes < 1440) return `${Math.round(minutes / 60)}-hour`;
  return `${Math.round(minutes / 1440)}-day`;
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
 * "available again in 59m 59s, at 14:30" for a limited profile, or null when the end of the limit
 * is unknown or already past. `timeZone` pins the clock part in tests.
 */
export function formatLimitedUntil(
  until: string | null,
  now: number,
  timeZone?: string,
): string | null {
  if (!until) return null;
  const at = Date.parse(until);
  if (Number.isNaN(at) || at <= now) return null;
  const clock = new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    timeZone,
  }).format(at);
  const day =
    at - now >= 20 * 3600 * 1000
      ? `${new Intl.DateTimeFormat('en-GB', { weekday: 'short', timeZone }).format(at)} `
      : '';
  return `available again in ${formatDuration(at - now)}, at ${day}${clock}`;
}
