/**
 * A reader for the small part of TOML that Codex Lab writes for Codex: `[table]` headers,
 * `key = value` lines with dotted keys, basic strings (JSON's escapes), booleans, integers, arrays
 * and inline tables, and `#` comment lines. Anything else throws, so a test never passes on text
 * this reader misunderstood. Used to compare the `config.toml` block with the `-c` overrides.
 */

/** A TOML value as this reader returns it. */
export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
/** A TOML table. */
export interface TomlTable {
  [key: string]: TomlValue;
}

/** Parses a whole document (the `codex-config` block). */
export function parseTomlDocument(text: string): TomlTable {
  const root: TomlTable = {};
  let table = root;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[([^[\]]+)\]$/.exec(line);
    if (header) {
      table = tableAt(root, splitKey(header[1]!));
      continue;
    }
    assignTomlKeyValue(table, line);
  }
  return root;
}

/** Applies one `dotted.key=value` line (a `-c` override, or a line of a table) to `table`. */
export function assignTomlKeyValue(table: TomlTable, line: string): void {
  const reader = new Reader(line);
  const key = reader.key();
  reader.skipSpace();
  reader.expect('=');
  const value = reader.value();
  reader.skipSpace();
  if (!reader.done()) throw new Error(`Unexpected text after the value in: ${line}`);
  const path = splitKey(key);
  tableAt(table, path.slice(0, -1))[path.at(-1)!] = value;
}

function splitKey(key: string): string[] {
  return key.split('.').map((part) => {
    const trimmed = part.trim();
    if (trimmed.startsWith('"')) return JSON.parse(trimmed) as string;
    if (!/^[A-Za-z0-9_-]+$/.test(trimmed)) throw new Error(`Unsupported key: ${key}`);
    return trimmed;
  });
}

function tableAt(root: TomlTable, path: string[]): TomlTable {
  let table = root;
  for (const part of path) {
    const next = table[part] ?? {};
    if (typeof next !== 'object' || Array.isArray(next)) throw new Error(`${part} is not a table`);
    table[part] = next;
    table = next;
  }
  return table;
}

class Reader {
  #at = 0;
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }

  done(): boolean {
    return this.#at >= this.text.length;
  }

  skipSpace(): void {
    while (this.text[this.#at] === ' ' || this.text[this.#at] === '\t') this.#at++;
  }

  expect(char: string): void {
    if (this.text[this.#at] !== char) {
      throw new Error(`Expected ${char} at ${this.#at} in: ${this.text}`);
    }
    this.#at++;
  }

  /** A bare or quoted key, dots included (split later). */
  key(): string {
    this.skipSpace();
    const start = this.#at;
    while (!this.done() && this.text[this.#at] !== '=' && this.text[this.#at] !== ' ') {
      if (this.text[this.#at] === '"') this.#string();
      else this.#at++;
    }
    return this.text.slice(start, this.#at);
  }

  value(): TomlValue {
    this.skipSpace();
    const char = this.text[this.#at];
    if (char === '"') return JSON.parse(this.#string()) as string;
    if (char === '[') return this.#list();
    if (char === '{') return this.#inlineTable();
    const word = /^(true|false|-?\d+)/.exec(this.text.slice(this.#at))?.[1];
    if (word === undefined) throw new Error(`Unsupported value at ${this.#at} in: ${this.text}`);
    this.#at += word.length;
    if (word === 'true' || word === 'false') return word === 'true';
    return Number(word);
  }

  #string(): string {
    const start = this.#at;
    this.expect('"');
    while (this.text[this.#at] !== '"') {
      if (this.done()) throw new Error(`Unterminated string in: ${this.text}`);
      this.#at += this.text[this.#at] === '\\' ? 2 : 1;
    }
    this.#at++;
    return this.text.slice(start, this.#at);
  }

  #list(): TomlValue[] {
    this.expect('[');
    const items: TomlValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.#at] === ']') break;
      items.push(this.value());
      this.skipSpace();
      if (this.text[this.#at] === ',') this.#at++;
    }
    this.#at++;
    return items;
  }

  #inlineTable(): TomlTable {
    this.expect('{');
    const table: TomlTable = {};
    for (;;) {
      this.skipSpace();
      if (this.text[this.#at] === '}') break;
      const key = this.key();
      this.skipSpace();
      this.expect('=');
      const path = splitKey(key);
      tableAt(table, path.slice(0, -1))[path.at(-1)!] = this.value();
      this.skipSpace();
      if (this.text[this.#at] === ',') this.#at++;
    }
    this.#at++;
    return table;
  }
}
