/**
 * Codex's `-c key=value` overrides read as Codex reads them: each one a TOML `key = value` line
 * (dotted keys, any TOML value), merged into one table. Parsed by smol-toml, the TOML reader the
 * `codex-config --write` editor uses.
 */
import { parse, type TomlTable } from 'smol-toml';

export type { TomlTable };

/** Merges `from` into `into`, table by table (a later value replaces an earlier one). */
function mergeInto(into: TomlTable, from: TomlTable): void {
  for (const [key, value] of Object.entries(from)) {
    const existing = into[key];
    if (isTable(value) && isTable(existing)) mergeInto(existing, value);
    else into[key] = value;
  }
}

function isTable(value: unknown): value is TomlTable {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
  );
}

/** The table Codex builds from `overrides` (each a `key=value` string, as after a `-c`). */
export function overridesTable(overrides: readonly string[]): TomlTable {
  const table: TomlTable = {};
  for (const override of overrides) mergeInto(table, parse(override));
  return table;
}
