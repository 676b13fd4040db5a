/**
 * Plain-text formatting for the CLI: aligned tables, percentages and reset countdowns. No
 * colours or terminal probing, so output is the same in a pipe, a test and a terminal.
 */
import type { ProfileView, QuotaWindowView } from '../service/contract.ts';

/** Lays out rows under headers with columns padded to their widest cell. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** A short countdown such as `45s`, `12m`, `3h05m` or `4d07h`. */
export function formatCountdown(ms: number): string {
  if (ms <= 0) return 'now';
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d${String(hours % 24).padStart(2, '0')}h`;
}

/** A quota window as `42% (resets in 3h05m)`, or `-` when unknown. */
export function formatWindow(window: QuotaWindowView | null, now: number): string {
  if (!window) return '-';
  const used = `${Math.round(window.usedPercent)}%`;
  if (window.resetsAt === null) return used;
  const left = Date.parse(window.resetsAt) - now;
  return left <= 0 ? `${used} (reset)` : `${used} (${formatCountdown(left)})`;
}

/** A status with its countdown: `ok`, `limited 2h10m`, `auth_error`, `unknown`. */
export function formatStatus(view: ProfileView, now: number): string {
  if (view.status === 'limited' && view.unavailableUntil) {
    return `limited ${formatCountdown(Date.parse(view.unavailableUntil) - now)}`;
  }
  return view.status;
}

/**
 * Priming state with the last outcome: `off`, `on`, `on, primed 2h05m ago`, `off, failed 3m ago`.
 */
export function formatPriming(view: ProfileView, now: number): string {
  const state = view.priming ? 'on' : 'off';
  const last = view.primingLast;
  if (!last) return state;
  const ago = now - Date.parse(last.at);
  const when = ago < 60_000 ? 'just now' : `${formatCountdown(ago)} ago`;
  return `${state}, ${last.outcome.replace('_', ' ')} ${when}`;
}

/** The human `codex-lab list` table (the active profile is marked `*`). */
export function formatProfileTable(views: ProfileView[], active: string, now: number): string {
  if (views.length === 0) return 'No profiles yet. Add one with `codex-lab login`.';
  const rows = views.map((view) => [
    view.active ? '*' : ' ',
    view.legacy ? `${view.name} (legacy)` : view.name,
    view.email ?? '-',
    view.plan ?? '-',
    formatStatus(view, now),
    formatWindow(view.quota.primary, now),
    formatWindow(view.quota.secondary, now),
    formatPriming(view, now),
  ]);
  const table = formatTable(
    [' ', 'NAME', 'EMAIL', 'PLAN', 'STATUS', '5H USED', 'WEEKLY USED', 'PRIMING'],
    rows,
  );
  const footer =
    active === 'auto'
      ? 'Active: auto (the router picks the best profile for each new session).'
      : `Active: ${active}`;
  return `${table}\n\n${footer}`;
}
