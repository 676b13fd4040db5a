/**
 * The tray's and the notifications' labels, built on the shared formatting module
 * (`core/format.ts`) so they read as the CLI and the dashboard do.
 */
import {
  formatClockTime,
  quotaNotLive,
  windowLeft,
  windowName as sharedWindowName,
} from '../../core/format.ts';
import type { ProfileView, QuotaWindowView } from '../../core/service/contract.ts';

/** Formatting options: a fixed time zone makes the output deterministic in tests. */
export interface FormatOptions {
  /** IANA time zone; the system's when omitted. */
  timeZone?: string;
  /** Current time in milliseconds (for "until" labels that need a day). */
  now: number;
}

/** "5h", "wk", "1d": the short name of a quota window from its length. */
export function windowName(window: QuotaWindowView): string {
  return sharedWindowName(window.windowMinutes, 'short');
}

/**
 * "5h 88% · wk 60% left", or "" when no window is known yet or the figures are not live
 * (`quotaNotLive`: a headline figure would claim a usable account): what each window has left,
 * in the words every surface uses (`windowLeft`; a window past its reset counts as unused).
 */
export function quotaSummary(profile: ProfileView, now: number): string {
  if (quotaNotLive(profile) !== null) return '';
  const parts: string[] = [];
  for (const window of [profile.quota.primary, profile.quota.secondary]) {
    if (window) parts.push(`${windowName(window)} ${windowLeft(window, now).figure}`);
  }
  return parts.length === 0 ? '' : `${parts.join(' · ')} left`;
}

/** "14:30" within the next 20 hours, or "Tue 14:30" further away (24-hour clock). */
export function formatUntil(iso: string, options: FormatOptions): string {
  return formatClockTime(Date.parse(iso), options);
}

/** The display name of a profile: its label when set, else its name. */
export function displayName(profile: ProfileView): string {
  return profile.label ?? profile.name;
}
