/**
 * The core's logger: pino, with secrets scrubbed twice. Fields whose key names a credential
 * (authorization, any `*token*`, cookies, secrets) are replaced before serialization, and every
 * serialized line is searched for anything JWT-shaped, `Bearer …` values and the exact secret
 * strings the caller registers (the router token), so a token that slips into a message or an
 * unexpected field still never reaches the output.
 */
import { pino, type DestinationStream } from 'pino';
import type { Logger } from './ports.ts';
import { formatLogTime } from './format.ts';
import { redactFields, scrubSecrets } from './redact.ts';

/** Options for `createLogger`. */
export interface LoggerOptions {
  /** pino level; default `info`, or `LOG_LEVEL`-style values such as `debug`. */
  level?: string;
  /** Where lines go; default stderr (stdout is for command output). */
  destination?: DestinationStream;
  /**
   * `human` (`14:05:09 INFO  message key=value`) or `json` (one object a line). Default: human
   * when the lines go to a terminal (the default stderr on a TTY), else JSON for machines.
   */
  format?: 'human' | 'json';
  /** Exact secret strings to scrub from every line (e.g. the router token), read on each write. */
  secrets?: () => readonly string[];
  /** Fields bound to every line. */
  base?: Record<string, unknown>;
}

/** Builds a pino logger that satisfies the core's `Logger` port and never prints a secret. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = options.secrets ?? (() => []);
  const format =
    options.format ?? (!options.destination && process.stderr.isTTY ? 'human' : 'json');
  const sink = options.destination ?? pino.destination({ dest: 2, sync: false });
  const destination = format === 'human' ? humanLines(sink) : sink;
  return pino(
    {
      level: options.level ?? 'info',
      base: options.base ?? null,
      formatters: { log: (fields) => redactFields(fields) as Record<string, unknown> },
      hooks: { streamWrite: (line) => scrubSecrets(line, secrets()) },
      serializers: { err: (error: unknown) => redactFields(error) },
    },
    destination,
  ) as unknown as Logger;
}

const levelNames: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** One JSON log line as a person reads it: `14:05:09 INFO  message key=value …`. */
export function humanLogLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { level, time, msg, ...fields } = record;
  const at = typeof time === 'number' ? formatLogTime(time) : '';
  const name = (levelNames[Number(level)] ?? String(level)).padEnd(5);
  const extra = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${[at, name, typeof msg === 'string' ? msg : '', extra].filter((part) => part !== '').join(' ')}\n`;
}

/** Wraps a destination so each (already scrubbed) JSON line is written in human form. */
function humanLines(sink: DestinationStream): DestinationStream {
  return { write: (line: string) => sink.write(humanLogLine(line)) };
}
