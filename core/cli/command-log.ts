/**
 * The logger of a one-shot command (`list`, `use`, `pin`, … everything but `serve`): what the
 * core says on its own while the command runs (a journal record set aside or replayed, a state
 * file it could not update, a lock it waits for) reaches the user as one sentence a line on the
 * command's stderr, `codex-lab: Message (field: value, …).`, terminal or pipe alike. A script,
 * an IDE task or `2>&1 | cat` gets the same words a terminal does, never a JSON log object (that
 * is `serve`'s service log, `core/log.ts`). A line is said once per command, however many times
 * the store loads; warnings and errors by default, debug and info only when
 * `CODEX_LAB_LOG_LEVEL` asks. Fields and lines are scrubbed as every log line is
 * (`core/redact.ts`). No pino: a command that never logs pays nothing for it.
 */
import type { Writable } from 'node:stream';
import type { LogLevel } from '../config.ts';
import type { Logger } from '../ports.ts';
import { redactFields, scrubSecrets } from '../redact.ts';

/** Options for `createCommandLogger`. */
export interface CommandLoggerOptions {
  /** Where the sentences go: the command's stderr. */
  stream: Writable;
  /** The least severe level said; default `warn`. */
  level?: LogLevel;
  /** Exact secret strings to scrub from every line, read on each write. */
  secrets?: () => readonly string[];
}

const severity: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };

/**
 * Fields bound for the service log's reader (which module spoke), not for the person who ran the
 * command.
 */
const internalFields = new Set(['component']);

/** Builds the command's logger; its children share its level, stream and what it has said. */
export function createCommandLogger(options: CommandLoggerOptions): Logger {
  const least = severity[options.level ?? 'warn'];
  const secrets = options.secrets ?? (() => []);
  // The store replays its journal on every load, and a command loads it several times: a record
  // it cannot finish would otherwise be reported once per load.
  const said = new Set<string>();
  const build = (bindings: object): Logger => {
    const write = (level: LogLevel) => (fields: object, message?: string) => {
      if (severity[level] < least) return;
      const line = scrubSecrets(commandLogLine(level, { ...bindings, ...fields }, message), [
        ...secrets(),
      ]);
      if (said.has(line)) return;
      said.add(line);
      options.stream.write(`${line}\n`);
    };
    return {
      debug: write('debug'),
      info: write('info'),
      warn: write('warn'),
      error: write('error'),
      child: (more) => build({ ...bindings, ...more }),
    };
  };
  return build({});
}

/**
 * One log call as a sentence on one line: `codex-lab: Message (field: value, …).`, debug and info
 * marked as such. Credential-named fields are replaced; a field whose value the message already
 * says (a path the sentence names) is not repeated.
 */
export function commandLogLine(level: LogLevel, fields: object, message = ''): string {
  const text = oneLine(message);
  const details = Object.entries(redactFields(fields) as Record<string, unknown>)
    .filter(([key, value]) => !internalFields.has(key) && value !== undefined)
    .map(([key, value]) => [key, describeValue(value)] as const)
    .filter(([, value]) => value !== '' && !mentions(text, value))
    .map(([key, value]) => `${key === 'err' ? 'error' : key}: ${value}`);
  const sentence = capitalised(text.replace(/[\s.]+$/, ''));
  const marker = level === 'debug' || level === 'info' ? `${level}: ` : '';
  const tail =
    details.length === 0 ? '' : sentence === '' ? details.join(', ') : ` (${details.join(', ')})`;
  return `codex-lab: ${marker}${sentence}${tail}.`;
}

/** True when `text` says `value` as a whole word (a path, a profile name), not inside another. */
function mentions(text: string, value: string): boolean {
  const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w-])${escaped}($|[^\\w-])`).test(text);
}

/** A field's value in words: an error by its message, a list by its items, never an object. */
function describeValue(value: unknown): string {
  if (value === null) return 'none';
  if (Array.isArray(value)) return value.map(describeValue).join(', ');
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    // An error (redactFields turned it into { type, message, code }), without its full stop: it
    // is quoted inside the sentence.
    if (typeof record['message'] === 'string') {
      return oneLine(record['message']).replace(/[\s.]+$/, '');
    }
    return (
      Object.entries(record)
        .filter(([, field]) => field !== undefined)
        // `key=value`, so the credential-field scrub (`key=`) recognises a name it knows.
        .map(([key, field]) => `${key}=${describeValue(field)}`)
        .join(', ')
    );
  }
  return oneLine(String(value));
}

/** `text` on one line, so a sentence never spans two. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** `text` with its first letter capitalised. */
function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
