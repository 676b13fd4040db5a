// Command-line options for the benches, read strictly: a mistyped option must never run a long
// bench on its defaults and then rewrite docs/benchmarks.md with figures nobody asked for.
import { basename } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * Reads a bench's options from `process.argv`. `spec` maps each option's name to its default: a
 * number for a count (a positive integer), `false` for a flag, a string or `null` for a text.
 * `--help` prints `usage` and exits 0; an unknown option, a missing value or a count that is not a
 * positive integer prints one sentence and exits 2.
 */
export function benchOptions<Spec extends Record<string, number | string | boolean | null>>(
  usage: string,
  spec: Spec,
  argv: string[] = process.argv.slice(2),
): {
  [Name in keyof Spec]: Spec[Name] extends number
    ? number
    : Spec[Name] extends boolean
      ? boolean
      : string | null;
} {
  const options: ParseArgsConfig['options'] & object = {
    help: { type: 'boolean', default: false },
  };
  for (const [name, fallback] of Object.entries(spec)) {
    options[name] =
      fallback === false
        ? { type: 'boolean', default: false }
        : { type: 'string', ...(fallback === null ? {} : { default: String(fallback) }) };
  }
  let values: Record<string, unknown> = {};
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (error) {
    refuse(
      `${((error as Error).message.split('\n')[0] ?? '').replace(/\.?$/, '.')} Usage: ${usage}`,
    );
  }
  if (values.help) {
    process.stdout.write(
      `Usage: ${usage}\nWhat it measures is said at the top of ${scriptName()}.\n`,
    );
    process.exit(0);
  }
  const read: Record<string, number | string | boolean | null> = {};
  for (const [name, fallback] of Object.entries(spec)) {
    const value = values[name];
    if (typeof fallback !== 'number') {
      read[name] = (value as string | boolean | undefined) ?? null;
      continue;
    }
    read[name] = positiveCount(name, String(value));
  }
  return read as ReturnType<typeof benchOptions<Spec>>;
}

/** Reads `text` as the value of the count option `--name`, or refuses it with exit 2. */
export function positiveCount(name: string, text: string): number {
  const count = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(count) || count < 1) {
    refuse(`--${name} takes a positive whole number, not "${text}".`);
  }
  return count;
}

/** Prints one sentence on stderr and exits 2, as the project's commands do for bad input. */
function refuse(sentence: string): never {
  process.stderr.write(`${sentence}\n`);
  process.exit(2);
}

/** The running bench's file name, for the help text. */
function scriptName(): string {
  return `bench/${basename(process.argv[1] ?? 'the bench')}`;
}
