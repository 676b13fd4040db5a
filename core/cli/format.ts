/**
 * The CLI's layout: aligned tables, the `list` table, and colour for statuses on a terminal. The
 * words and numbers come from the shared formatting module (`core/format.ts`), so the CLI says
 * what the tray and the dashboard say. Colour only on a TTY, and never when `NO_COLOR` is set
 * (https://no-color.org), so pipes and tests read plain text.
 */
import type { Writable } from 'node:stream';
import { cutText, formatAgo, formatAgoSince, formatStatus, formatWindowLeft } from '../format.ts';
import type { ProfileStatus, ProfileView } from '../service/contract.ts';

/** What a coloured cell means. */
export type Tone = 'good' | 'warn' | 'bad' | 'dim';

const toneCodes: Record<Tone, string> = { good: '32', warn: '33', bad: '31', dim: '2' };

/** What a terminal stream (`process.stdout` on a TTY) says of itself; a pipe says neither. */
type MaybeTerminal = Writable & { isTTY?: boolean; columns?: number };

/** True when `stream` is a terminal and the user has not asked for no colour. */
export function colourEnabled(stream: Writable, env: NodeJS.ProcessEnv): boolean {
  const tty = (stream as MaybeTerminal).isTTY === true;
  const noColour = env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '';
  return tty && !noColour && env['TERM'] !== 'dumb';
}

/** `text` in the tone's colour when `enabled`, else unchanged. */
export function paint(text: string, tone: Tone, enabled: boolean): string {
  return enabled ? `\u001b[${toneCodes[tone]}m${text}\u001b[0m` : text;
}

/** The width text is laid out for when the output is no terminal (a pipe, a file). */
export const defaultOutputWidth = 100;

/**
 * The width to lay text out for on `stream` (a command's `context.stdout`): a terminal's columns,
 * else `defaultOutputWidth`, so what goes to a pipe or a file does not depend on where it ran.
 */
export function outputWidth(stream: Writable): number {
  const terminal = stream as MaybeTerminal;
  const columns = terminal.columns;
  return terminal.isTTY === true && typeof columns === 'number' && columns > 0
    ? columns
    : defaultOutputWidth;
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

/** One column of a table laid out to a width (`fitTable`). */
export interface FitColumn {
  header: string;
  /** Narrowest its cells may be cut to (ending in "…"); absent: never cut. */
  min?: number;
  /**
   * Columns with a rank are left out, lowest rank first, while the table is wider than its width;
   * absent: always shown.
   */
  drop?: number;
}

/** A table laid out to a width. */
export interface FittedTable {
  /** The header line, then one line per row. */
  lines: string[];
  /** One more row laid out as the others (for rows that arrive later). */
  row: (cells: string[]) => string;
  /** The headers of the columns left out to fit, in the order they were left out. */
  hidden: string[];
}

/**
 * Lays out rows under headers, columns padded to their widest cell, in at most `width` characters
 * (`Infinity`: as wide as the cells). The last column takes what is left and is cut with "…" past
 * it, but never below its `min`: columns with a `drop` rank are left out first (the least useful
 * first), then the cuttable columns are narrowed, the widest first. A narrow table keeps the
 * columns that say what happened and cuts long names rather than wrapping every row.
 */
export function fitTable(columns: FitColumn[], rows: string[][], width: number): FittedTable {
  let shown = columns.map((_, index) => index);
  const natural = (column: number) =>
    Math.max(columns[column]!.header.length, ...rows.map((row) => (row[column] ?? '').length));
  const floor = (column: number) =>
    Math.min(natural(column), Math.max(columns[column]!.header.length, columns[column]!.min ?? 0));
  // The width of every shown column but the last, with the gaps after each.
  const leading = (widths: Map<number, number>) =>
    shown.slice(0, -1).reduce((sum, column) => sum + (widths.get(column) ?? 0) + 2, 0);
  let widths = new Map(shown.map((column) => [column, natural(column)]));
  const last = () => shown.at(-1)!;
  const fits = () => leading(widths) + floor(last()) <= width;
  while (!fits()) {
    const droppable = shown
      .filter((column) => column !== last() && columns[column]!.drop !== undefined)
      .sort((a, b) => columns[a]!.drop! - columns[b]!.drop!);
    if (droppable.length === 0) break;
    shown = shown.filter((column) => column !== droppable[0]);
    widths = new Map(shown.map((column) => [column, natural(column)]));
  }
  while (!fits()) {
    // Narrow the widest column that can still be cut, a character at a time, so cut columns
    // end up about as wide as each other.
    const widest = shown
      .slice(0, -1)
      .filter((column) => widths.get(column)! > floor(column))
      .sort((a, b) => widths.get(b)! - widths.get(a)!)[0];
    if (widest === undefined) break;
    widths.set(widest, widths.get(widest)! - 1);
  }
  widths.set(last(), Math.max(floor(last()), width - leading(widths)));
  const line = (cells: string[]) =>
    shown
      .map((column) => {
        const text = cells[column] ?? '';
        // A column that may not be cut keeps a later, longer cell whole (a `--follow` row).
        const cell = columns[column]!.min === undefined ? text : cutText(text, widths.get(column)!);
        return column === last() ? cell : cell.padEnd(widths.get(column)!);
      })
      .join('  ')
      .trimEnd();
  return {
    lines: [line(columns.map((column) => column.header)), ...rows.map(line)],
    row: line,
    hidden: columns
      .map((_, index) => index)
      .filter((column) => !shown.includes(column))
      .sort((a, b) => columns[a]!.drop! - columns[b]!.drop!)
      .map((column) => columns[column]!.header),
  };
}

/** `text` broken between words into lines of at most `width` characters (a longer word stays whole). */
export function wrapText(text: string, width: number): string {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const current = lines.at(-1);
    if (current !== undefined && current.length + 1 + word.length <= width) {
      lines[lines.length - 1] = `${current} ${word}`;
    } else {
      lines.push(word);
    }
  }
  return lines.join('\n');
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
