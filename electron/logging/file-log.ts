/**
 * The desktop app's log: a size-rotated file in the app's logs folder (`app.getPath('logs')`),
 * never stderr. A packaged GUI app on Windows has no stderr, so a logger writing to fd 2 fails
 * with EBADF at its first line and Electron shows "A JavaScript error occurred in the main
 * process" (pinojs/pino#1868). Rotation is pino-roll's; a write failure is reported once through
 * `onError` and later lines are dropped, so logging can never take the app down.
 */
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import pinoRoll from 'pino-roll';

/** Options for `openFileLog`. */
export interface FileLogOptions {
  /** The logs folder; created when missing. */
  folder: string;
  /** File name without number and extension: `main` gives `main.1.log`, `main.2.log`, … */
  name?: string;
  /** Size at which a new file starts (pino-roll units: `512k`, `5m`). */
  maxSize?: string;
  /** How many older files to keep besides the current one. */
  keep?: number;
  /** Called once, at the first failure to open or write the log. */
  onError(error: Error): void;
}

/** An open log. */
export interface FileLog {
  /** Give this to `createLogger({ destination })`. */
  destination: DestinationStream;
  /** The folder the files are in (what "Open logs folder" opens). */
  folder: string;
  /** Writes what is buffered and closes the file. */
  close(): Promise<void>;
}

/** Defaults: five files of 5 MB at most, so the folder never passes 30 MB. */
export const defaultFileLog = { name: 'main', maxSize: '5m', keep: 5 } as const;

/** Opens the rotating log file; on failure the log discards lines (after reporting once). */
export async function openFileLog(options: FileLogOptions): Promise<FileLog> {
  let failed = false;
  const fail = (error: unknown): void => {
    if (failed) return;
    failed = true;
    options.onError(error instanceof Error ? error : new Error(String(error)));
  };
  let stream: Awaited<ReturnType<typeof pinoRoll>>;
  try {
    stream = await pinoRoll({
      file: join(options.folder, options.name ?? defaultFileLog.name),
      extension: '.log',
      size: options.maxSize ?? defaultFileLog.maxSize,
      limit: { count: options.keep ?? defaultFileLog.keep },
      mkdir: true,
      // Synchronous writes: a line is in the file before the next statement runs, so the lines
      // just before a crash are never lost, and the app writes few enough for it not to matter.
      sync: true,
    });
  } catch (error) {
    fail(error);
    return {
      destination: { write: () => undefined },
      folder: options.folder,
      close: async () => {},
    };
  }
  // Without a listener an 'error' event is thrown from the stream and ends the process.
  stream.on('error', fail);
  return {
    destination: {
      write(line: string) {
        if (!failed) stream.write(line);
      },
    },
    folder: options.folder,
    close: () =>
      new Promise<void>((resolve) => {
        if (failed || stream.destroyed) {
          resolve();
          return;
        }
        stream.once('close', () => resolve());
        stream.once('error', () => resolve());
        stream.end();
      }),
  };
}
