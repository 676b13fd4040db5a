/**
 * Small pure formatters the tray and the notifications share, so labels read the same everywhere.
 */
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
  const minutes = window.windowMinutes;
  if (minutes === null) return '?';
  if (minutes === 10080) return 'wk';
  if (minutes < 1440) return `${Math.round(minutes / 60)}h`;
  return `${Math.round(minutes / 1440)}d`;
}

/** "5h 12% · wk 40%", or "" when no window is known yet. */
export function quotaSummary(profile: ProfileView): string {
  const parts: string[] = [];
  for (const window of [profile.quota.primary, profile.quota.secondary]) {
    if (window) parts.push(`${windowName(window)} ${Math.round(window.usedPercent)}%`);
  }
  return parts.join(' · ');
}

/** "14:30" today, or "Tue 14:30" further away (24-hour clock, so no locale surprises). */
export function formatUntil(iso: string, options: FormatOptions): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return 'later';
  const time = new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    timeZone: options.timeZone,
  }).format(at);
  if (at.getTime() - options.now < 20 * 3600 * 1000) return time;
  const day = new Intl.DateTimeFormat('en-GB', {
    weekday: 'short',
    timeZone: options.timeZone,
  }).format(at);
  return `${day} ${time}`;
}

/** The display name of a profile: its label when set, else its name. */
export function displayName(profile: ProfileView): string {
  return profile.label ?? profile.name;
}
