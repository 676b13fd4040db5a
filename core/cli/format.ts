/**
 * The CLI's layout: aligned tables, the `list` table, and colour for statuses on a terminal. The
 * words and numbers come from the shared formatting module (`core/format.ts`), so the CLI says
 * what the tray and the dashboard say. Colour only on a TTY, and never when `NO_COLOR` is set
 * (https://no-color.org), so pipes and tests read plain text.
 */
import type { Writable } from 'node:stream';
import {
  cutAtWord,
  cutText,
  formatAgo,
  formatAgoSince,
  formatStatus,
  formatStatusShort,
  isFailingUpstream,
  noProfilesSentence,
  windowLeft,
  windowsByLength,
} from '../format.ts';
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

/** The width a table command lays out for: no bound with `--wide`, else `outputWidth`. */
export function tableWidth(options: Record<string, unknown>, stream: Writable): number {
  return options['wide'] === true ? Infinity : outputWidth(stream);
}

/**
 * What every `--json` prints (`list`, `pins`, `usage`, `status`): one value, indented by two
 * spaces. `log --json` alone is JSON Lines, one compact object per request, so it can be followed.
 */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
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

/** One column of a table laid out to a width (`fitTable`). */
export interface FitColumn {
  header: string;
  /**
   * The header over the cells' short forms (`5-HOUR LEFT` over `58% · 3h 5m`); absent: `header`.
   */
  compactHeader?: string;
  /** Narrowest its cells may be cut to (ending in "…"); absent: never cut. */
  min?: number;
  /**
   * Columns with a rank are left out, lowest rank first, while the table is wider than its width;
   * absent: always shown.
   */
  drop?: number;
  /**
   * True for a column that tells rows apart (a profile's name): it is never cut so narrow that two
   * different cells read the same (`acct-10` and `acct-11` both `acct-…`).
   */
  distinct?: boolean;
}

/**
 * A cell of a fitted table: its text, or its text and a short form of the same facts in the
 * shared words (`core/format.ts`), shown when the full forms do not fit.
 */
export type FitCell = string | { text: string; compact: string };

/**
 * The narrowest a cuttable column gets when the terminal is narrower than every column's `min`
 * allows: five characters and "…" (a `distinct` column keeps as many as tell its cells apart).
 */
const lastResortWidth = 6;

/** A table laid out to a width. */
export interface FittedTable {
  /** The header line, then one line per row. */
  lines: string[];
  /** One more row laid out as the others (for rows that arrive later). */
  row: (cells: FitCell[]) => string;
  /** The headers of the columns left out to fit, in the order they were left out. */
  hidden: string[];
  /** True when the cells show their short forms. */
  compact: boolean;
}

/**
 * Colours a laid-out body cell: `text` is the cell as shown (cut, without the padding after it),
 * `row` the index of its row, `column` of its column in `columns`. Escape codes added here never
 * count towards a width.
 */
export type CellStyle = (text: string, row: number, column: number) => string;

/**
 * Lays out rows under headers, columns padded to their widest cell, in at most `width` characters
 * (`Infinity`: as wide as the cells). The last column takes what is left and is cut with "…" past
 * it, but never below its `min`. When the table is too wide, every cell with a short form takes it
 * (the same facts in fewer words), then columns with a `drop` rank are left out (the least useful
 * first), then the cuttable columns are narrowed, the widest first (to their `min`, then, on a very
 * narrow terminal, further). A narrow table keeps the
 * columns that say what matters and cuts long names rather than wrapping every row. `style`
 * colours body cells without moving a column.
 */
export function fitTable(
  columns: FitColumn[],
  rows: FitCell[][],
  width: number,
  style?: CellStyle,
): FittedTable {
  let shown = columns.map((_, index) => index);
  let compact = false;
  const text = (cell: FitCell | undefined) =>
    cell === undefined ? '' : typeof cell === 'string' ? cell : compact ? cell.compact : cell.text;
  const header = (column: number) =>
    (compact ? columns[column]!.compactHeader : undefined) ?? columns[column]!.header;
  const natural = (column: number) =>
    Math.max(header(column).length, ...rows.map((row) => text(row[column]).length));
  // The narrowest a column that tells rows apart may be cut to with its cells still all different.
  const apartWidths = new Map<string, number>();
  const apart = (column: number) => {
    if (columns[column]!.distinct !== true) return 0;
    const key = `${column}:${compact}`;
    const known = apartWidths.get(key);
    if (known !== undefined) return known;
    const cells = [...new Set(rows.map((row) => text(row[column])))];
    let width = natural(column);
    while (
      width > 1 &&
      new Set(cells.map((cell) => cutText(cell, width - 1))).size === cells.length
    ) {
      width -= 1;
    }
    apartWidths.set(key, width);
    return width;
  };
  // How narrow a column may be cut when it may be cut at all (`min` absent: as wide as its widest
  // cell, also when it is the last one): its header and `least` characters of each cell, and as
  // wide as it takes to keep the cells of a distinct column apart.
  const narrowestWith = (least: (column: number) => number) => (column: number) => {
    const min = columns[column]!.min;
    if (min === undefined) return natural(column);
    return Math.min(natural(column), Math.max(header(column).length, least(column), apart(column)));
  };
  const floor = narrowestWith((column) => columns[column]!.min!);
  // Past every `min`: a cut column keeps its header and a few characters of each cell.
  const lastResort = narrowestWith(() => lastResortWidth);
  // The width of every shown column but the last, with the gaps after each.
  const leading = (widths: Map<number, number>) =>
    shown.slice(0, -1).reduce((sum, column) => sum + (widths.get(column) ?? 0) + 2, 0);
  let widths = new Map(shown.map((column) => [column, natural(column)]));
  const last = () => shown.at(-1)!;
  // How narrow the last column may get: its `min`, until the narrowing passes `min` (below).
  let lastFloor = floor;
  const fits = () => leading(widths) + lastFloor(last()) <= width;
  const shortens = rows.some((row) => row.some((cell) => typeof cell !== 'string'));
  if (!fits() && shortens) {
    compact = true;
    widths = new Map(shown.map((column) => [column, natural(column)]));
  }
  while (!fits()) {
    const droppable = shown
      .filter((column) => columns[column]!.drop !== undefined)
      .sort((a, b) => columns[a]!.drop! - columns[b]!.drop!);
    if (droppable.length === 0 || shown.length === 1) break;
    shown = shown.filter((column) => column !== droppable[0]);
    widths = new Map(shown.map((column) => [column, natural(column)]));
  }
  // Narrow the widest column that can still be cut, a character at a time, so cut columns end
  // up about as wide as each other: down to each column's `min`, then, on a terminal narrower
  // than every `min` allows (a split pane), down to `lastResortWidth` rather than spill.
  for (const narrowest of [floor, lastResort]) {
    if (!fits()) lastFloor = narrowest;
    while (!fits()) {
      const widest = shown
        .slice(0, -1)
        .filter((column) => widths.get(column)! > narrowest(column))
        .sort((a, b) => widths.get(b)! - widths.get(a)!)[0];
      if (widest === undefined) break;
      widths.set(widest, widths.get(widest)! - 1);
    }
  }
  widths.set(last(), Math.max(lastFloor(last()), width - leading(widths)));
  const line = (cells: string[], row: number | null) =>
    shown
      .map((column) => {
        const full = cells[column] ?? '';
        // A column that may not be cut keeps a later, longer cell whole (a `--follow` row).
        const cell = columns[column]!.min === undefined ? full : cutText(full, widths.get(column)!);
        const styled = row === null || !style || cell === '' ? cell : style(cell, row, column);
        return column === last()
          ? styled
          : `${styled}${' '.repeat(widths.get(column)! - cell.length)}`;
      })
      .join('  ')
      .trimEnd();
  return {
    lines: [
      line(
        columns.map((_, column) => header(column)),
        null,
      ),
      ...rows.map((cells, row) => line(cells.map(text), row)),
    ],
    row: (cells) => line(cells.map(text), null),
    hidden: columns
      .map((_, index) => index)
      .filter((column) => !shown.includes(column))
      .sort((a, b) => columns[a]!.drop! - columns[b]!.drop!)
      .map((column) => columns[column]!.header),
    compact,
  };
}

/**
 * Which columns a fitted table left out, and how to see them (`codex-lab COMMAND --wide`), in
 * lines of at most `width` (one, at any usual width).
 */
export function hiddenNote(hidden: string[], width: number, command: string): string {
  return wrapText(
    `Not shown at ${width} columns: ${hidden.join(', ')} (see codex-lab ${command} --wide).`,
    width,
  );
}

/** Lines of text each cut at a word with "…" to at most `width` characters (`Infinity`: whole). */
export function fitLines(lines: readonly string[], width: number): string[] {
  return lines.map((text) => cutAtWord(text, width));
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
  /** The width to fit (`outputWidth`), or `Infinity` for every column uncut (`--wide`). */
  width?: number;
}

/**
 * A profile's status and its quota windows as fitted-table cells, each with its short form: the
 * columns `list` and `usage` both show, worded once.
 */
export function quotaCells(view: ProfileView, now: number): FitCell[] {
  const windows = windowsByLength(view.quota);
  const five = windowLeft(windows.fiveHour, now);
  const week = windowLeft(windows.weekly, now);
  return [
    {
      text: formatStatus(
        view.status,
        view.unavailableUntil,
        { now },
        view.statusCode,
        view.skippedUntil,
      ),
      compact: formatStatusShort(
        view.status,
        view.unavailableUntil,
        { now },
        view.statusCode,
        view.skippedUntil,
      ),
    },
    { text: five.text, compact: five.compact },
    { text: week.text, compact: week.compact },
  ];
}

/** The columns of `quotaCells`: always shown, the windows' headers saying what a figure is. */
export const quotaColumns: FitColumn[] = [
  // Cut last of all (a narrow terminal): "limited, back i…" still says limited.
  { header: 'STATUS', min: 12 },
  { header: '5-HOUR', compactHeader: '5-HOUR LEFT' },
  { header: 'WEEKLY', compactHeader: 'WEEKLY LEFT' },
];

/**
 * Colours the STATUS cells (`quotaColumns`) of a fitted table whose rows are `views`, in the
 * tone of each status at `now`, when `colour` is on.
 */
export function statusStyle(
  views: readonly ProfileView[],
  columns: readonly FitColumn[],
  colour: boolean,
  now: number,
): CellStyle {
  const statusColumn = columns.indexOf(quotaColumns[0]!);
  return (cell, row, column) =>
    column === statusColumn ? paint(cell, viewTone(views[row]!, now), colour) : cell;
}

/** A view's status tone; a profile the router skips for failing upstream waits, as a limited one. */
function viewTone(view: ProfileView, now: number): Tone {
  return isFailingUpstream(view, now) ? 'warn' : statusTone(view.status);
}

/** The shortest a profile name is cut to in a narrow table (with "…"). */
const nameMin = 16;

/** The PROFILE column of `list` and `usage`: always shown, a long name cut first. */
export const profileColumn: FitColumn = { header: 'PROFILE', min: nameMin, distinct: true };

/**
 * The human `codex-lab list` table (the active profile is marked `*`), fitted to
 * `options.width`: the name, status and both windows always show (the windows as `58% · 3h 5m`
 * when narrow); EMAIL goes first, then PRIMING, PINS and PLAN. Then a line naming what was left
 * out, and the active profile, each line within the width.
 */
export function formatProfileTable(
  views: ProfileView[],
  active: string,
  now: number,
  options: ProfileTableOptions = {},
): string {
  const width = options.width ?? Infinity;
  if (views.length === 0) return wrapText(noProfilesSentence, width);
  const columns: FitColumn[] = [
    { header: ' ' },
    profileColumn,
    { header: 'EMAIL', min: 20, drop: 1 },
    { header: 'PLAN', drop: 4 },
    ...quotaColumns,
    { header: 'PRIMING', drop: 2 },
  ];
  if (options.pins) columns.push({ header: 'PINS', drop: 3 });
  const rows = views.map((view) => {
    const row: FitCell[] = [
      view.active ? '*' : ' ',
      view.legacy ? `${view.name} (legacy)` : view.name,
      view.email ?? '-',
      view.plan ?? '-',
      ...quotaCells(view, now),
      formatPriming(view, now),
    ];
    if (options.pins) {
      const count = options.pins.get(view.name) ?? 0;
      row.push(count === 0 ? '-' : `pinned (${count})`);
    }
    return row;
  });
  const table = fitTable(
    columns,
    rows,
    width,
    statusStyle(views, columns, options.colour === true, now),
  );
  const footer =
    active === 'auto'
      ? 'Active: auto (the router picks the best profile for each new session).'
      : `Active: ${active}`;
  return [
    table.lines.join('\n'),
    ...(table.hidden.length > 0 ? [hiddenNote(table.hidden, width, 'list')] : []),
    fitLines([footer], width).join('\n'),
  ].join('\n\n');
}
