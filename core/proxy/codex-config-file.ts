/**
 * Puts the `codexConfigBlock` text into Codex's own `config.toml`, and takes it out again, as pure
 * text edits (`codex-lab codex-config --write` / `--remove`; the command does the file effects).
 *
 * Why an editor and not "append this": TOML gives every key after a `[table]` header to that table,
 * and nearly every real config.toml ends with one (Codex appends `[projects."…"]` trust tables), so
 * an appended `model_provider` lands inside it and Codex silently keeps going straight to OpenAI.
 * The edit is line-based so the user's comments, order and formatting stay byte for byte; the
 * lines are only located by a small scanner (which lines start a statement, which continue a
 * multi-line string or array). Whether an edit is right is decided by a real TOML parser
 * (`smol-toml`): the file must parse before, and after the edit it must parse to the same data with
 * only our keys changed, or nothing is written.
 *
 * What the block is made of is read from its text (top-level key lines, then its table), so the
 * keys it sets can change without this file changing. Codex Lab owns those keys, not the table:
 * a `[model_providers.codex-lab]` the file already has keeps every other key, comment and
 * sub-table of the user's, and only our keys' lines change. A user's own other value for one of
 * our keys (top-level or in our table) is set aside as a `# codex-lab kept:` comment in place,
 * for `--remove` to put back.
 */
import { parse, TomlError } from 'smol-toml';
import type { ErrorCode } from '../errors.ts';

/** The comment line that opens the top-level keys `--write` adds. */
export const writtenMarker =
  '# Codex Lab: set by `codex-lab codex-config --write` (`--remove` takes it out).';
/**
 * The prefix of a user's own line that `--write` (or `--remove`) set aside, so the other can put it
 * back. Only lines that read as TOML where we put them count (`ourKeptLines`).
 */
export const keptPrefix = '# codex-lab kept: ';

/** An edit that worked: the new text, and what the user should be told about it. */
export interface ConfigEditSuccess {
  ok: true;
  /** The whole new file. Equal to the input when there was nothing to change. */
  text: string;
  changed: boolean;
  /** Top-level keys of the user's that were set aside as comments (write) or put back (remove). */
  kept: string[];
  /**
   * Headers of tables that hold our top-level keys with the block's values: left there by a block
   * appended after them. Codex ignores keys there; they are the user's to delete, not ours to edit.
   */
  strays: string[];
  /**
   * The user's own keys (and sub-tables) in our provider's table: set aside as comments (remove,
   * since Codex refuses a provider table without the name we take out) or put back (write).
   */
  tableKept: string[];
}

/** An edit that was refused; nothing may be written. */
export interface ConfigEditFailure {
  ok: false;
  /** `corrupt_file`: the file does not parse; `invalid_config`: no safe edit was found. */
  code: ErrorCode;
  /** One sentence (without the file's name, which the caller adds). */
  message: string;
  /**
   * What the user can do instead, when adding the block by hand would fail too (so the caller
   * says this rather than printing the block).
   */
  advice?: string;
}

/** The result of `writeCodexConfig` or `removeCodexConfig`. */
export type ConfigEditResult = ConfigEditSuccess | ConfigEditFailure;

type TomlTable = Record<string, unknown>;

/**
 * The key without which Codex refuses a provider table ("failed to load bootstrap configuration"):
 * a table of ours left with the user's own one stays live on --remove, else it is set aside.
 */
const nameKey = 'name';

/** One line without its line break, and the break it had (`''` on a last line without one). */
interface Line {
  text: string;
  eol: string;
}

/** A header (`[a.b]`, `[[a]]`) or a `key = value` statement, over lines `start..end`. */
interface Statement {
  kind: 'header' | 'keyvalue';
  start: number;
  end: number;
}

/** The pieces of the block: its top-level key lines and its table. */
interface BlockParts {
  keyLines: string[];
  tableLines: string[];
  /** The top-level keys the block sets, with their values. */
  keys: Map<string, unknown>;
  /** The path of the block's table (`model_providers`, `codex-lab`). */
  root: string[];
  /** The keys the block's table sets: their values and their lines as the block writes them. */
  table: Map<string, { value: unknown; lines: string[] }>;
  /**
   * Keys an earlier block set in its table and this one does not, with the value it set: ours
   * while they still have that value, the user's otherwise.
   */
  retired: Map<string, unknown>;
  data: TomlTable;
}

function splitLines(text: string): Line[] {
  if (text === '') return [];
  const lines: Line[] = [];
  const pattern = /\r?\n/g;
  let from = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    lines.push({ text: text.slice(from, match.index), eol: match[0] });
    from = match.index + match[0].length;
  }
  if (from < text.length) lines.push({ text: text.slice(from), eol: '' });
  return lines;
}

function joinLines(lines: readonly Line[]): string {
  return lines.map((line) => line.text + line.eol).join('');
}

/** Where a scan of one line left off: inside a multi-line string, and how deep in `[` / `{`. */
interface ScanState {
  string: '"""' | "'''" | null;
  depth: number;
  /** Where the line's comment starts, if it has one (set by `scanLine`). */
  comment?: number;
}

/** Advances `state` over one line, skipping strings and comments (which may hold `[` or `#`). */
function scanLine(text: string, state: ScanState): ScanState {
  let { string, depth } = state;
  let i = 0;
  while (i < text.length) {
    if (string !== null) {
      const quote = string[0]!;
      if (quote === '"' && text[i] === '\\') {
        i += 2;
        continue;
      }
      if (text.startsWith(string, i)) {
        // Up to two more quotes may close it ("""a"""" is `a"`): the run ends the string.
        let run = 3;
        while (run < 5 && text[i + run] === quote) run += 1;
        i += run;
        string = null;
        continue;
      }
      i += 1;
      continue;
    }
    const char = text[i]!;
    if (char === '#') return { string, depth, comment: i };
    if (char === '"' || char === "'") {
      if (text.startsWith(char.repeat(3), i)) {
        string = char === '"' ? '"""' : "'''";
        i += 3;
        continue;
      }
      // A one-line string: its closing quote is on this line.
      i += 1;
      while (i < text.length && text[i] !== char) i += char === '"' && text[i] === '\\' ? 2 : 1;
      i += 1;
      continue;
    }
    if (char === '[' || char === '{') depth += 1;
    if (char === ']' || char === '}') depth -= 1;
    i += 1;
  }
  return { string, depth };
}

/** The statements of a document, in order; lines in none are blank or comments. */
function statementsOf(lines: readonly Line[]): Statement[] {
  const statements: Statement[] = [];
  let state: ScanState = { string: null, depth: 0 };
  let current: Statement | null = null;
  lines.forEach((line, index) => {
    if (current === null) {
      const trimmed = line.text.trimStart();
      if (trimmed === '' || trimmed.startsWith('#')) return;
      current = { kind: trimmed.startsWith('[') ? 'header' : 'keyvalue', start: index, end: index };
    }
    current.end = index;
    state = scanLine(line.text, state);
    if (state.string === null && state.depth <= 0) {
      statements.push(current);
      current = null;
      state = { string: null, depth: 0 };
    }
  });
  if (current !== null) statements.push(current);
  return statements;
}

function statementText(lines: readonly Line[], statement: Statement): string {
  return lines
    .slice(statement.start, statement.end + 1)
    .map((line) => line.text)
    .join('\n');
}

/** The top-level key a `key = value` statement sets, and its value (parsed on its own). */
function keyOf(lines: readonly Line[], statement: Statement): [string, unknown] | null {
  try {
    const entries = Object.entries(parse(statementText(lines, statement)));
    return entries.length === 1 ? entries[0]! : null;
  } catch {
    return null;
  }
}

/** The key path a table header names: `[a."b.c"]` is `a`, `b.c`. */
function headerPath(lines: readonly Line[], statement: Statement): string[] | null {
  let value: unknown;
  try {
    value = parse(statementText(lines, statement));
  } catch {
    return null;
  }
  const path: string[] = [];
  while (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length !== 1) break;
    const [key, inner] = entries[0]!;
    path.push(key);
    value = Array.isArray(inner) ? null : inner;
  }
  return path;
}

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length > 0 && prefix.every((key, index) => path[index] === key);
}

/** Splits `codexConfigBlock`'s text into its top-level key lines and its table. */
function blockParts(block: string, retiredBlock = ''): BlockParts | null {
  const lines = splitLines(block);
  let data: TomlTable;
  try {
    data = parse(block);
  } catch {
    return null;
  }
  const statements = statementsOf(lines);
  const firstHeader = statements.find((statement) => statement.kind === 'header');
  if (!firstHeader) return null;
  const root = headerPath(lines, firstHeader);
  if (!root || root.length === 0) return null;
  const keys = new Map<string, unknown>();
  const keyLines: string[] = [];
  const table = new Map<string, { value: unknown; lines: string[] }>();
  for (const statement of statements) {
    if (statement.start === firstHeader.start) continue;
    // One table: its keys are what Codex Lab owns in it, each replaced on its own.
    if (statement.kind === 'header') return null;
    const entry = keyOf(lines, statement);
    if (!entry) return null;
    const text = lines.slice(statement.start, statement.end + 1).map((line) => line.text);
    if (statement.start < firstHeader.start) {
      keys.set(entry[0], entry[1]);
      keyLines.push(...text);
    } else {
      table.set(entry[0], { value: entry[1], lines: text });
    }
  }
  const tableLines = lines.slice(firstHeader.start).map((line) => line.text);
  while (tableLines.length > 0 && tableLines.at(-1)!.trim() === '') tableLines.pop();
  let retired: unknown;
  try {
    retired = retiredBlock === '' ? {} : valueAt(parse(retiredBlock), root);
  } catch {
    return null;
  }
  if (typeof retired !== 'object' || retired === null) return null;
  return {
    keyLines,
    tableLines,
    keys,
    root,
    table,
    retired: new Map(Object.entries(retired)),
    data,
  };
}

/**
 * `lines` ending as `text` ended: without a last line break when it had none. Our lines always
 * carry one, so a write would add it and a `--remove` could not tell it was not there before;
 * keeping the file's own ending makes `--write` then `--remove` give back the same bytes.
 */
function endingAs(lines: Line[], text: string): Line[] {
  if (lines.length > 0 && text !== '' && !text.endsWith('\n')) {
    lines[lines.length - 1] = { ...lines.at(-1)!, eol: '' };
  }
  return lines;
}

/** The text's own line break (CRLF when its first break is one), for the lines we add. */
function lineBreakOf(text: string): string {
  const first = /\r?\n/.exec(text);
  return first ? first[0] : '\n';
}

/** A date as TOML wrote it (smol-toml's dates keep their form, local or offset). */
function dateText(date: Date): string {
  try {
    return date.toISOString();
  } catch {
    return String(date.getTime());
  }
}

/** Deep equality of parsed TOML values (tables, arrays, dates, numbers, strings, booleans). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && dateText(a) === dateText(b);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, index) => sameValue(item, b[index]))
    );
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const left = Object.keys(a);
    const right = Object.keys(b);
    return (
      left.length === right.length &&
      left.every(
        (key) => Object.hasOwn(b, key) && sameValue((a as TomlTable)[key], (b as TomlTable)[key]),
      )
    );
  }
  return Object.is(a, b);
}

/** Whether `key = value` in our table is Codex Lab's: a key the block sets, or a retired one. */
function ownsTableKey(parts: BlockParts, key: string, value: unknown): boolean {
  return (
    parts.table.has(key) || (parts.retired.has(key) && sameValue(value, parts.retired.get(key)))
  );
}

/**
 * `data` without our top-level keys and without our keys in our table (`whole`: the whole table),
 * and without a table left empty by that (`[model_providers.codex-lab]` alone makes
 * `model_providers`). Copies only the tables it changes.
 */
function withoutOurs(data: TomlTable, parts: BlockParts, whole: boolean): TomlTable {
  const leaf = (table: TomlTable): TomlTable =>
    whole
      ? {}
      : Object.fromEntries(
          Object.entries(table).filter(([key, value]) => !ownsTableKey(parts, key, value)),
        );
  const drop = (table: TomlTable, path: readonly string[]): TomlTable => {
    const [key, ...rest] = path;
    if (key === undefined || !Object.hasOwn(table, key)) return table;
    const copy = { ...table };
    const inner = table[key];
    if (typeof inner === 'object' && inner !== null && !Array.isArray(inner)) {
      const left = rest.length === 0 ? leaf(inner as TomlTable) : drop(inner as TomlTable, rest);
      if (Object.keys(left).length === 0) delete copy[key];
      else copy[key] = left;
    } else if (rest.length === 0) {
      delete copy[key];
    }
    return copy;
  };
  const top = { ...data };
  for (const key of parts.keys.keys()) delete top[key];
  return drop(top, parts.root);
}

function valueAt(data: TomlTable, path: readonly string[]): unknown {
  let value: unknown = data;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as TomlTable)[key];
  }
  return value;
}

/**
 * Why Codex would refuse `text` as its `config.toml` for its syntax (the TOML parser's words:
 * `is not valid TOML (line L, column C): …`, without the file's name, which the caller adds), or
 * null when it parses. The one TOML check: the edits below make it first too.
 */
export function codexConfigSyntaxProblem(text: string): string | null {
  const parsed = parseDocument(text);
  return parsed.ok ? null : parsed.message;
}

function parseDocument(text: string): { ok: true; data: TomlTable } | ConfigEditFailure {
  try {
    return { ok: true, data: parse(text) };
  } catch (error) {
    const where = error instanceof TomlError ? ` (line ${error.line}, column ${error.column})` : '';
    const reason =
      error instanceof Error
        ? error.message
            .split('\n')[0]!
            .replace(/^Invalid TOML document: /, '')
            .replace(/\.$/, '')
        : 'unreadable';
    return { ok: false, code: 'corrupt_file', message: `is not valid TOML${where}: ${reason}` };
  }
}

/** `line` with the `# codex-lab kept: ` prefix taken off, or null when it has none. */
function keptLine(line: Line): Line | null {
  return line.text.startsWith(keptPrefix)
    ? { ...line, text: line.text.slice(keptPrefix.length) }
    : null;
}

/**
 * The indices of the `# codex-lab kept:` lines that `--write` or `--remove` wrote, told from a
 * user's own comment that happens to start the same way: each run of such lines must read as TOML
 * without the prefix and sit where we put them (top-level keys the block sets, above every table;
 * keys of our table inside it; or a set-aside table of ours, its header first, and what follows
 * it up to the next live table). Anything else is the user's comment and stays one.
 */
function ourKeptLines(lines: readonly Line[], parts: BlockParts): Set<number> {
  const live = new Map<number, string[] | null>();
  for (const statement of statementsOf(lines)) {
    if (statement.kind === 'header') live.set(statement.start, headerPath(lines, statement));
  }
  const ours = new Set<number>();
  let region: string[] | null | 'top' = 'top';
  let setAside = false;
  for (let index = 0; index < lines.length; index += 1) {
    if (live.has(index)) {
      region = live.get(index) ?? null;
      setAside = false;
    }
    if (keptLine(lines[index]!) === null) continue;
    let end = index;
    while (end + 1 < lines.length && keptLine(lines[end + 1]!) !== null) end += 1;
    const run = lines.slice(index, end + 1).map((line) => keptLine(line)!);
    const from = index;
    index = end;
    const statements = statementsOf(run);
    const first = statements[0];
    const headed =
      first?.kind === 'header' &&
      first.start === 0 &&
      startsWith(headerPath(run, first) ?? [], parts.root);
    if (headed || setAside) {
      // A set-aside table: the whole run reads as TOML, comments included.
      try {
        parse(joinLines(run));
      } catch {
        continue;
      }
      if (headed) setAside = true;
      for (let at = from; at <= end; at += 1) ours.add(at);
      continue;
    }
    // Else statement by statement: each a key of ours where we put it (a note beside is a note).
    const owned = (key: string) =>
      region === 'top'
        ? parts.keys.has(key)
        : Array.isArray(region) &&
          region.length === parts.root.length &&
          startsWith(region, parts.root) &&
          parts.table.has(key);
    for (const statement of statements) {
      const entry = statement.kind === 'keyvalue' ? keyOf(run, statement) : null;
      if (entry === null || !owned(entry[0])) continue;
      for (let at = statement.start; at <= statement.end; at += 1) ours.add(from + at);
    }
  }
  return ours;
}

/**
 * A file's lines with our top-level keys out and the lines `--write` set aside put back, and the
 * keys those lines set. `user` holds the lines put back (the user's, whatever their value); a
 * key of ours set live beside one of them goes (it is ours: the user's was set aside for it).
 */
function stripOurKeys(
  lines: readonly Line[],
  parts: BlockParts,
): { lines: Line[]; kept: string[]; tableKept: string[]; user: Set<Line>; written: boolean } {
  // They were top-level statements, or our table's lines, when set aside, so they are again.
  const recognised = ourKeptLines(lines, parts);
  const user = new Set<Line>();
  const restored = lines.map((line, index) => {
    if (!recognised.has(index)) return line;
    const back = keptLine(line)!;
    user.add(back);
    return back;
  });
  const keptOnly = lines.map((line, index) =>
    recognised.has(index) ? keptLine(line)! : { text: '', eol: line.eol },
  );
  const kept = [...new Set(topLevelKeyStatements(keptOnly).map(({ key }) => key))];
  const tableKept = userTableKeys(keptOnly, parts);
  const statements = statementsOf(restored);
  const firstHeader = statements.find((statement) => statement.kind === 'header');
  const topEnd = firstHeader ? firstHeader.start : restored.length;
  const drop = new Set<number>();
  for (let index = 0; index < topEnd; index += 1) {
    if (restored[index]!.text === writtenMarker) drop.add(index);
  }
  const written = drop.size > 0;
  for (const statement of statements) {
    if (statement.start >= topEnd) break;
    // The group is the marker and the statements right under it, not a line put back just now.
    const inGroup =
      statement.start > 0 && drop.has(statement.start - 1) && !user.has(restored[statement.start]!);
    const entry = keyOf(restored, statement);
    if (!entry || !parts.keys.has(entry[0])) continue;
    // Ours: in the group, or set to exactly what the block sets (a block pasted by hand).
    if (inGroup || sameValue(entry[1], parts.keys.get(entry[0]))) {
      for (let index = statement.start; index <= statement.end; index += 1) drop.add(index);
    }
  }
  // Our live keys in our table beside a value of the user's for the same key, just put back.
  const sections = ourSections(restored, parts);
  const userKeys = new Set<string>();
  for (const section of sections) {
    if (section.path.length > parts.root.length) {
      if (user.has(restored[section.start]!)) userKeys.add(section.path[parts.root.length]!);
      continue;
    }
    for (const statement of section.statements) {
      const entry = user.has(restored[statement.start]!) ? keyOf(restored, statement) : null;
      if (entry && parts.table.has(entry[0])) userKeys.add(entry[0]);
    }
  }
  for (const section of sections) {
    const isUser = (at: number) => user.has(restored[at]!);
    if (section.path.length > parts.root.length) {
      if (!isUser(section.start) && userKeys.has(section.path[parts.root.length]!)) {
        for (let index = section.start; index <= section.end; index += 1) drop.add(index);
      }
      continue;
    }
    for (const statement of section.statements) {
      const entry = isUser(statement.start) ? null : keyOf(restored, statement);
      if (entry && userKeys.has(entry[0])) {
        for (let index = statement.start; index <= statement.end; index += 1) drop.add(index);
      }
    }
  }
  // The blank line --write puts under a group at the very top of the file.
  const groupEnd = [...drop]
    .sort((a, b) => a - b)
    .reduce((last, index) => (index === last + 1 ? index : last), -1);
  if (drop.has(0) && restored[groupEnd + 1]?.text.trim() === '' && groupEnd + 1 < topEnd) {
    drop.add(groupEnd + 1);
  }
  return {
    lines: restored.filter((_, index) => !drop.has(index)),
    kept,
    tableKept,
    user,
    written,
  };
}

function topLevelKeyStatements(
  lines: readonly Line[],
): Array<{ key: string; value: unknown; statement: Statement }> {
  const found: Array<{ key: string; value: unknown; statement: Statement }> = [];
  for (const statement of statementsOf(lines)) {
    if (statement.kind === 'header') break;
    const entry = keyOf(lines, statement);
    if (entry) found.push({ key: entry[0], value: entry[1], statement });
  }
  return found;
}

/** A section of our table or a table under it: its header's path and its key statements. */
interface Section {
  start: number;
  /** The last line of its last statement (of its header when it has none). */
  end: number;
  path: string[];
  header: Statement;
  statements: Statement[];
}

/** The sections (header to its last statement) of our table and the tables under it. */
function ourSections(lines: readonly Line[], parts: BlockParts): Section[] {
  const statements = statementsOf(lines);
  const sections: Section[] = [];
  statements.forEach((statement, index) => {
    if (statement.kind !== 'header') return;
    const path = headerPath(lines, statement);
    if (!path || !startsWith(path, parts.root)) return;
    const own: Statement[] = [];
    for (const next of statements.slice(index + 1)) {
      if (next.kind === 'header') break;
      own.push(next);
    }
    const end = own.at(-1)?.end ?? statement.end;
    sections.push({ start: statement.start, end, path, header: statement, statements: own });
  });
  return sections;
}

/**
 * The keys (and sub-tables) under our table that are not Codex Lab's, in the order they appear:
 * the user's own.
 */
function userTableKeys(lines: readonly Line[], parts: BlockParts): string[] {
  const keys: string[] = [];
  for (const section of ourSections(lines, parts)) {
    if (section.path.length > parts.root.length) {
      const key = section.path[parts.root.length]!;
      const value = sectionValue(lines, section, section.path.slice(0, parts.root.length + 1));
      if (!ownsTableKey(parts, key, value)) keys.push(key);
      continue;
    }
    for (const statement of section.statements) {
      const entry = keyOf(lines, statement);
      if (entry && !ownsTableKey(parts, entry[0], entry[1])) keys.push(entry[0]);
    }
  }
  return [...new Set(keys)];
}

/** The value a section gives `path` when read on its own (undefined when it does not read). */
function sectionValue(lines: readonly Line[], section: Section, path: readonly string[]): unknown {
  try {
    const text = statementText(lines, { kind: 'header', start: section.start, end: section.end });
    return valueAt(parse(text), path);
  } catch {
    return undefined;
  }
}

/**
 * The block's lines for one of our keys, in place of the user's statement `own` of it: with its
 * indent, and its trailing comment when both are one line (the comment is the user's).
 */
function ourLinesFor(parts: BlockParts, key: string, own: readonly Line[], eol: string): Line[] {
  const fresh = parts.table.get(key)!.lines.map((text) => ({ text, eol }));
  const first = own[0]!.text;
  fresh[0]!.text = /^\s*/.exec(first)![0] + fresh[0]!.text;
  const comment =
    own.length === 1 ? scanLine(first, { string: null, depth: 0 }).comment : undefined;
  if (fresh.length === 1 && comment !== undefined) {
    const gap = /\s*$/.exec(first.slice(0, comment))![0];
    fresh[0]!.text += gap + first.slice(comment);
  }
  return fresh;
}

/** Who set our keys in our table: the lines put back from kept comments are the user's. */
interface Owners {
  user: Set<Line>;
  /** The file has our top-level group: a key of ours in our table is ours whatever its value. */
  written: boolean;
}

/**
 * Whether `key = value` (first line `first`) in our table is Codex Lab's: a retired key at its old
 * value, or a key the block sets, not put back from a kept comment, and either at the block's
 * value or in a file `--write` edited (where a user's other value was set aside, so what is live
 * is an earlier block's: another port). Before any `--write`, another value is the user's.
 */
function ownedHere(parts: BlockParts, owners: Owners, key: string, value: unknown, first: Line) {
  if (!parts.table.has(key)) return ownsTableKey(parts, key, value);
  if (owners.user.has(first)) return false;
  return owners.written || sameValue(value, parts.table.get(key)!.value);
}

/** `lines` set aside as `# codex-lab kept:` comments (blank lines stay blank). */
function setAside(lines: readonly Line[]): Line[] {
  return lines.map((line) =>
    line.text.trim() === '' ? line : { ...line, text: keptPrefix + line.text },
  );
}

/**
 * Our table's sections with Codex Lab's keys edited and everything else of the user's kept, line
 * for line: `write` sets our keys to the block's values (a statement already holding the value is
 * left as written; a missing key goes after the last of ours; a user's own other value for one of
 * them is set aside as a `# codex-lab kept:` comment in place, ours under it, and its name added to
 * `keptKeys`), `remove` takes ours out and leaves the user's. Either takes out a retired key still
 * at its old value. Returns each section's new lines, in the order of `sections`; `[]` for one that
 * goes.
 */
function editedSections(
  lines: readonly Line[],
  sections: readonly Section[],
  parts: BlockParts,
  mode: 'write' | 'remove',
  eol: string,
  owners: Owners,
  keptKeys: string[] = [],
): Line[][] {
  const depth = parts.root.length;
  const subValue = (section: Section) =>
    sectionValue(lines, section, section.path.slice(0, depth + 1));
  // A sub-table that holds one of our keys at the block's value (the user's, or a paste) stays.
  const placedBySub = new Set<string>();
  for (const section of sections) {
    const key = section.path[depth];
    if (key === undefined || section.path.length !== depth + 1 || !parts.table.has(key)) continue;
    if (mode === 'write' && sameValue(subValue(section), parts.table.get(key)!.value)) {
      placedBySub.add(key);
    }
  }
  return sections.map((section) => {
    if (section.path.length > depth) {
      const key = section.path[depth]!;
      const own = lines.slice(section.start, section.end + 1);
      if (placedBySub.has(key)) return own;
      const value = subValue(section);
      if (!parts.table.has(key)) {
        return section.path.length === depth + 1 && ownsTableKey(parts, key, value) ? [] : own;
      }
      if (ownedHere(parts, owners, key, value, lines[section.start]!)) return [];
      // The user's own table for one of our keys: Codex takes no second definition of the key,
      // so on --write it is set aside whole, header included, for --remove to put back.
      if (mode === 'remove') return own;
      if (!keptKeys.includes(key)) keptKeys.push(key);
      return setAside(own);
    }
    const body: Line[] = lines.slice(section.start, section.header.end + 1);
    const placed = new Set<string>(placedBySub);
    // Where each of ours ends in `body`, so a missing one goes after the one before it in the block.
    const placedAt = new Map<string, number>();
    let firstAt: number | undefined;
    let cursor = section.header.end + 1;
    let after = body.length;
    for (const statement of section.statements) {
      body.push(...lines.slice(cursor, statement.start));
      cursor = statement.end + 1;
      const own = lines.slice(statement.start, statement.end + 1);
      const entry = keyOf(lines, statement);
      if (entry === null || !(parts.table.has(entry[0]) || ownsTableKey(parts, ...entry))) {
        body.push(...own);
        continue;
      }
      const [key, value] = entry;
      const ours = ownedHere(parts, owners, key, value, own[0]!);
      if (mode === 'remove') {
        if (!ours) body.push(...own);
        continue;
      }
      // A retired key, and a later dotted part of one of ours (`auth.args` after `auth.command`)
      // when it is ours, go.
      if (ours && (!parts.table.has(key) || placed.has(key))) continue;
      const same = sameValue(value, parts.table.get(key)!.value);
      firstAt ??= body.length;
      if (ours || same) {
        placed.add(key);
        body.push(...(same ? own : ourLinesFor(parts, key, own, eol)));
        after = body.length;
        placedAt.set(key, after);
        continue;
      }
      if (!keptKeys.includes(key)) keptKeys.push(key);
      body.push(...setAside(own));
      if (!placed.has(key)) {
        placed.add(key);
        const indent = /^\s*/.exec(own[0]!.text)![0];
        body.push(
          ...parts.table.get(key)!.lines.map((text, at) => ({
            text: at === 0 ? indent + text : text,
            eol,
          })),
        );
      }
      after = body.length;
      placedAt.set(key, after);
    }
    if (mode === 'write') {
      const missing = [...parts.table].filter(([key]) => !placed.has(key));
      // None of ours in it (a table --remove set aside): below the user's comment on the table.
      if (placed.size === placedBySub.size) {
        while (body[after]?.text.trimStart().startsWith('#')) after += 1;
      }
      const order = [...parts.table.keys()];
      const anchored = missing.map(([key, { lines: text }]) => {
        const before = order.slice(0, order.indexOf(key)).reverse();
        const anchor = before.find((earlier) => placedAt.has(earlier));
        // First in the block: before the first of ours (after the table's comment when none).
        const at = anchor === undefined ? (firstAt ?? after) : placedAt.get(anchor)!;
        return { at, lines: text.map((line) => ({ text: line, eol })) };
      });
      // Last first, so the earlier positions hold; keys at one position stay in the block's order.
      for (let index = anchored.length - 1; index >= 0; index -= 1) {
        const { at, lines: fresh } = anchored[index]!;
        body.splice(at, 0, ...fresh);
      }
    }
    return body;
  });
}

/**
 * Puts `sections`' new lines in place of the old, last first so earlier indices hold. A section
 * that goes takes the blank line before it when another (or the end of the file) follows: the one
 * --write put before a table it appended, and no doubled blank lines mid-file.
 */
function replaceSections(lines: Line[], sections: readonly Section[], edited: readonly Line[][]) {
  for (let index = sections.length - 1; index >= 0; index -= 1) {
    const section = sections[index]!;
    const fresh = edited[index]!;
    let start = section.start;
    const next = lines[section.end + 1];
    if (
      fresh.length === 0 &&
      start > 0 &&
      lines[start - 1]!.text.trim() === '' &&
      (!next || next.text.trim() === '')
    ) {
      start -= 1;
    }
    lines.splice(start, section.end - start + 1, ...fresh);
  }
}

/** The headers of tables that hold our top-level keys set to the block's values. */
function straysOf(lines: readonly Line[], parts: BlockParts): string[] {
  const strays: string[] = [];
  let header: string | null = null;
  for (const statement of statementsOf(lines)) {
    if (statement.kind === 'header') {
      header = lines[statement.start]!.text.trim();
      continue;
    }
    const entry = header === null ? null : keyOf(lines, statement);
    if (!entry || !parts.keys.has(entry[0])) continue;
    if (sameValue(entry[1], parts.keys.get(entry[0])) && !strays.includes(header!)) {
      strays.push(header!);
    }
  }
  return strays;
}

function failedCheck(action: string): ConfigEditFailure {
  return {
    ok: false,
    code: 'invalid_config',
    message: `could not be ${action} safely (the edited file would not read back as the same settings with only Codex Lab's changed)`,
  };
}

function notABlock(): ConfigEditFailure {
  return {
    ok: false,
    code: 'invalid_config',
    message: 'could not be edited: the Codex Lab block is not top-level keys followed by tables',
  };
}

/**
 * The refusal for a file that sets our table's parent as an inline table (`model_providers = {
 * … }`): TOML allows no table to be added to one, so neither `--write` nor the block pasted by
 * hand can work. Its providers written as `[model_providers.<name>]` tables (at the end, where a
 * table cannot take top-level keys from under it) read as the same settings, and then both do.
 * Null when the parent is not set that way (dotted keys, `model_providers.mine.name = …`, are
 * fine: a table can be added after them).
 */
function inlineParent(
  lines: readonly Line[],
  parts: BlockParts,
  data: TomlTable,
): ConfigEditFailure | null {
  const parent = parts.root[0]!;
  const inline = topLevelKeyStatements(lines).some(({ key, statement }) => {
    if (key !== parent) return false;
    const name = statementText(lines, statement).split('=')[0]!.trim();
    return name.replace(/^(["'])(.*)\1$/, '$2') === parent;
  });
  if (!inline || parts.root.length < 2) return null;
  const value = data[parent];
  const names = typeof value === 'object' && value !== null ? Object.keys(value) : [];
  const tables = names.map(
    (name) => `[${parent}.${/^[A-Za-z0-9_-]+$/.test(name) ? name : JSON.stringify(name)}]`,
  );
  return {
    ok: false,
    code: 'invalid_config',
    message: `sets ${parent} as an inline table (${parent} = { … }), which TOML does not let the [${parts.root.join('.')}] table add to`,
    advice: `write its providers as tables instead, at the end of the file (${[...tables, 'each with its keys on the lines under it'].join(', ')}), then run --write again`,
  };
}

/**
 * Puts `block` (`codexConfigBlock`'s text) into `text` (config.toml, `''` when there is none): its
 * top-level keys as one group, under a marker comment, after the file's last top-level statement
 * and so before any table; a top-level key of the user's that the block also sets becomes a
 * `# codex-lab kept:` comment in place; in a table of the block's name already there only the
 * block's keys are set (and `retired`'s keys at their old values taken out), else the table is
 * appended. Lines `--remove` set aside are put back. Running it again gives the same text.
 * `retired` is `retiredCodexConfigBlock`'s text (`''`: none).
 */
export function writeCodexConfig(text: string, block: string, retired = ''): ConfigEditResult {
  const parts = blockParts(block, retired);
  if (!parts) return notABlock();
  const before = parseDocument(text);
  if (!before.ok) return before;
  const eol = lineBreakOf(text);
  const stripped = stripOurKeys(splitLines(text), parts);
  let lines = stripped.lines;
  // What the user had, their set-aside lines put back: every key but ours must read the same after.
  const restored = parseDocument(joinLines(lines));
  if (!restored.ok) return failedCheck('edited');

  // The user's own values for our keys: set aside in place, in a form --remove can put back.
  const kept: string[] = [];
  for (const { key, statement } of topLevelKeyStatements(lines)) {
    if (!parts.keys.has(key)) continue;
    kept.push(key);
    for (let index = statement.start; index <= statement.end; index += 1) {
      lines[index] = { ...lines[index]!, text: keptPrefix + lines[index]!.text };
    }
  }

  // Our keys after the last top-level statement: above every table, below the user's settings.
  const live = topLevelKeyStatements(lines);
  const at = live.length > 0 ? live.at(-1)!.statement.end + 1 : 0;
  const group = [writtenMarker, ...parts.keyLines].map((line) => ({ text: line, eol }));
  if (at > 0 && lines[at - 1]!.eol === '') lines[at - 1] = { ...lines[at - 1]!, eol };
  // At the top of the file, a blank line keeps the group apart from what follows; always one, so
  // that taking the group out (with the blank under it) gives back the file exactly.
  if (at === 0 && lines.length > 0) group.push({ text: '', eol });
  lines = [...lines.slice(0, at), ...group, ...lines.slice(at)];

  // Our keys in the table there (the user's own keys in it stay), else the block's table at the end.
  if (lines.length > 0 && lines.at(-1)!.eol === '') {
    lines[lines.length - 1] = { ...lines.at(-1)!, eol };
  }
  const sections = ourSections(lines, parts);
  const edited = editedSections(lines, sections, parts, 'write', eol, stripped, kept);
  replaceSections(lines, sections, edited);
  if (!sections.some((section) => section.path.length === parts.root.length)) {
    if (lines.length > 0 && lines.at(-1)!.text.trim() !== '') lines.push({ text: '', eol });
    lines.push(...parts.tableLines.map((line) => ({ text: line, eol })));
  }

  const result = joinLines(endingAs(lines, text));
  const after = parseDocument(result);
  if (!after.ok) return inlineParent(splitLines(text), parts, before.data) ?? failedCheck('edited');
  const ours = [...parts.keys].every(([key, value]) => sameValue(after.data[key], value));
  const tableSet = [...parts.table].every(([key, { value }]) =>
    sameValue(valueAt(after.data, [...parts.root, key]), value),
  );
  const retiredGone = [...parts.retired].every(
    ([key, value]) => !sameValue(valueAt(after.data, [...parts.root, key]), value),
  );
  if (
    !ours ||
    !tableSet ||
    !retiredGone ||
    !sameValue(withoutOurs(after.data, parts, false), withoutOurs(restored.data, parts, false)) ||
    !sameValue(withoutOurs(restored.data, parts, true), withoutOurs(before.data, parts, true))
  ) {
    return failedCheck('edited');
  }
  return {
    ok: true,
    text: result,
    changed: result !== text,
    kept,
    strays: straysOf(lines, parts),
    tableKept: stripped.tableKept,
  };
}

/**
 * Takes out what `writeCodexConfig` put in (and a block pasted by hand whose keys still have the
 * block's values): our top-level keys, and our keys in our table, which goes with them when
 * nothing else is in it; the lines it set aside are put back. The user's own keys, comments and
 * sub-tables in our table are set aside as `# codex-lab kept:` comments in place (Codex refuses a
 * provider table without its name, so they cannot stay live), for `--write` to put back. Every
 * other line is left as it was.
 */
export function removeCodexConfig(text: string, block: string, retired = ''): ConfigEditResult {
  const parts = blockParts(block, retired);
  if (!parts) return notABlock();
  const before = parseDocument(text);
  if (!before.ok) return before;
  const eol = lineBreakOf(text);
  const stripped = stripOurKeys(splitLines(text), parts);
  const { lines, kept } = stripped;
  const sections = ourSections(lines, parts);
  const edited = editedSections(lines, sections, parts, 'remove', eol, stripped);
  const tableKept = userTableKeys(lines, parts);
  // Anything of the user's left (a comment, an empty sub-table): the whole table is set aside,
  // headers too, unless it names the provider (the user's own name, put back), which Codex takes.
  const userLeft = edited.some((section, index) => {
    const { path, header, start } = sections[index]!;
    if (path.length > parts.root.length) return section.length > 0;
    return section.some((line, at) => line.text.trim() !== '' && at > header.end - start);
  });
  const named = edited.some((section, index) => {
    if (sections[index]!.path.length !== parts.root.length) return false;
    return statementsOf(section).some((statement) => keyOf(section, statement)?.[0] === nameKey);
  });
  const final = named ? edited : userLeft ? edited.map(setAside) : edited.map(() => []);
  replaceSections(lines, sections, final);
  const result = joinLines(endingAs(lines, text));
  const after = parseDocument(result);
  if (!after.ok) return failedCheck('undone');
  const left = [...parts.keys].some(([key, value]) => sameValue(after.data[key], value));
  if (left || (!named && valueAt(after.data, parts.root) !== undefined)) {
    return failedCheck('undone');
  }
  if (!sameValue(withoutOurs(after.data, parts, true), withoutOurs(before.data, parts, true))) {
    return failedCheck('undone');
  }
  return {
    ok: true,
    text: result,
    changed: result !== text,
    kept,
    strays: straysOf(lines, parts),
    tableKept: userLeft && !named ? tableKept : [],
  };
}

/**
 * The block as printed for pasting by hand: a note before its top-level keys that they go at the
 * top of config.toml, before any table (after one they would belong to it, and Codex would go
 * straight to OpenAI without a word), or that `--write` does it.
 */
export function annotateCodexConfigBlock(block: string): string {
  const lines = block.split('\n');
  const parts = blockParts(block);
  const firstKey = parts?.keyLines[0];
  const at = firstKey === undefined ? -1 : lines.indexOf(firstKey);
  if (at < 0) return block;
  const note = [
    '# The next lines, down to the first [table], go at the TOP of config.toml, before any',
    '# [table]: after one they would belong to it, and Codex would quietly skip Codex Lab.',
    '# Or let `codex-lab codex-config --write` edit the file (`--remove` undoes it).',
  ];
  return [...lines.slice(0, at), ...note, ...lines.slice(at)].join('\n');
}
