/**
 * The CLI's layout: aligned tables, the `list` table, and colour for statuses on a terminal. The
 * words and numbers come from the shared formatting module (`core/format.ts`), so the CLI says
 * what the tray and the dashboard say. Colour only on a TTY, and never when `NO_COLOR` is set
 * (https://no-color.org), so pipes and tests read plain text.
 */
import type { Writable } from 'node:stream';
import { formatAgo, formatAgoSince, formatStatus, formatWindowLeft } from '../format.ts';
import type { ProfileStatus, ProfileView } from '../service/contract.ts';

/** What a coloured cell means. */
export type Tone = 'good' | 'warn' | 'bad' | 'dim';

const toneCodes: Record<Tone, string> = { good: '32', warn: '33', bad: '31', dim: '2' };

/** True when `stream` is a terminal and the user has not asked for no colour. */
export function colourEnabled(stream: Writable, env: NodeJS.ProcessEnv): boolean {
  const tty = (stream as Writable & { isTTY?: boolean }).isTTY === true;
  const noColour = env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '';
  return tty && !noColour && env['TERM'] !== 'dumb';
}

/** `text` in the tone's colour when `enabled`, else unchanged. */
export function paint(text: string, tone: Tone, enabled: boolean): string {
  return enabled ? `\u001b[${toneCodes[tone]}m${text}\u001b[0m` : text;
}

/** The tone of a status: ready is good, limited a warning, needs sign-in bad. */
export function statusTone(status: ProfileStatus): Tone {
  return status === 'ok'
    ? 'good'
    : status === 'limited'
      ? 'warn'
      : status === 'auth_error'
        ? 'bad'
        : 'dim';
}

/**
 * Lays out rows under headers with columns padded to their widest cell. `style` may wrap a
 * padded body cell (colour), so escape codes never count towards a column's width.
 */
export function formatTable(
  headers: string[],
  rows: string[][],
  style?: (cell: string, row: number, column: number) => string,
): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[], row: number | null) =>
    cells
      .map((cell, column) => {
        const padded = column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0);
        if (row === null || !style) return padded;
        // Colour the text, not the padding after it.
        const text = padded.trimEnd();
        return `${style(text, row, column)}${padded.slice(text.length)}`;
      })
      .join('  ')
      .trimEnd();
  return [line(headers, null), ...rows.map((cells, row) => line(cells, row))].join('\n');
}

/** Priming state with the last outcome: `off`, `on`, `on, primed 2h 5m ago`, `off, failed 3m ago`. */
export function formatPriming(view: ProfileView, now: number): string {
  const state = view.priming ? 'on' : 'off';
  const last = view.primingLast;
  if (!last) return state;
  return `${state}, ${last.outcome.replace('_', ' ')} ${formatAgo(now - Date.parse(last.at))}`;
}

/** When a profile's quota was last read: `just now`, `12m ago`, `never`. */
export function formatUpdated(view: ProfileView, now: number): string {
  return formatAgoSince(view.quota.updatedAt, now);
}

/** Options for `formatProfileTable`. */
export interface ProfileTableOptions {
  /** Pins per profile name (sessions and repos), shown in the PINS column. */
  pins?: ReadonlyMap<string, number>;
  /** Colour statuses (a terminal without NO_COLOR). */
  colour?: boolean;
}

/** The human `codex-lab list` table (the active profile is marked `*`). */
export function formatProfileTable(
  views: ProfileView[],
  active: string,
  now: number,
  options: ProfileTableOptions = {},
): string {
  if (views.length === 0) return 'No profiles yet. Add one with `codex-lab login`.';
  const headers = [' ', 'PROFILE', 'EMAIL', 'PLAN', 'STATUS', '5-HOUR', 'WEEKLY', 'PRIMING'];
  if (options.pins) headers.push('PINS');
  const rows = views.map((view) => {
    const row = [
      view.active ? '*' : ' ',
      view.legacy ? `${view.name} (legacy)` : view.name,
      view.email ?? '-',
      view.plan ?? '-',
      formatStatus(view.status, view.unavailableUntil, { now }, view.statusCode),
      formatWindowLeft(view.quota.primary, now),
      formatWindowLeft(view.quota.secondary, now),
      formatPriming(view, now),
    ];
    if (options.pins) {
      const count = options.pins.get(view.name) ?? 0;
      row.push(count === 0 ? '-' : `pinned (${count})`);
    }
    return row;
  });
  const statusColumn = headers.indexOf('STATUS');
  const table = formatTable(headers, rows, (cell, row, column) =>
    column === statusColumn
      ? paint(cell, statusTone(views[row]!.status), options.colour === true)
      : cell,
  );
  const footer =
    active === 'auto'
      ? 'Active: auto (the router picks the best profile for each new session).'
      : `Active: ${active}`;
  return `${table}\n\n${footer}`;
}
