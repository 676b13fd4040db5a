import {
  closeSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/log.ts';
import { openFileLog } from '../../../electron/logging/file-log.ts';

let folder: string;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'codex-lab-logs-'));
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

/** Lets the stream run what it scheduled for the next tick (rotation happens on 'drain'). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

const logFiles = () =>
  readdirSync(folder)
    .filter((name) => name.endsWith('.log'))
    .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));

describe('openFileLog', () => {
  it('writes the core logger’s lines to main.N.log in the folder, secrets scrubbed', async () => {
    const errors: Error[] = [];
    const log = await openFileLog({ folder: join(folder, 'logs'), onError: (e) => errors.push(e) });
    const logger = createLogger({ destination: log.destination, secrets: () => ['router-secret'] });
    logger.info({ profile: 'work', accessToken: 'abc' }, 'signed in with router-secret');
    await log.close();
    const text = readFileSync(join(folder, 'logs', 'main.1.log'), 'utf8');
    expect(text).toContain('"profile":"work"');
    expect(text).toContain('signed in');
    expect(text).not.toContain('router-secret');
    expect(text).not.toContain('abc');
    expect(errors).toEqual([]);
  });

  it('starts a new file past the size limit and keeps only the newest files', async () => {
    const log = await openFileLog({ folder, maxSize: '1k', keep: 2, onError: () => undefined });
    const logger = createLogger({ destination: log.destination });
    for (let index = 0; index < 40; index += 1) {
      logger.info({ index, padding: 'x'.repeat(200) }, 'line');
      await settle();
    }
    await log.close();
    const files = logFiles();
    // The current file plus at most two older ones, numbered on from the first.
    expect(files.length).toBeLessThanOrEqual(3);
    expect(files.length).toBeGreaterThan(1);
    expect(Number(files.at(-1)!.split('.')[1])).toBeGreaterThan(3);
    // Nothing lost at the seams: the newest lines are all there, in order.
    const lines = files
      .flatMap((name) => readFileSync(join(folder, name), 'utf8').split('\n'))
      .filter((line) => line !== '')
      .map((line) => (JSON.parse(line) as { index: number }).index);
    expect(lines.at(-1)).toBe(39);
    expect(lines).toEqual(lines.slice().sort((a, b) => a - b));
    expect(lines[lines.length - 1]! - lines[0]!).toBe(lines.length - 1);
  });

  it('continues the numbering of the files already in the folder', async () => {
    writeFileSync(join(folder, 'main.7.log'), '{"old":true}\n');
    const log = await openFileLog({ folder, onError: () => undefined });
    createLogger({ destination: log.destination }).info({}, 'after restart');
    await log.close();
    expect(readFileSync(join(folder, 'main.7.log'), 'utf8')).toContain('after restart');
    expect(readFileSync(join(folder, 'main.7.log'), 'utf8')).toContain('"old":true');
  });

  it.skipIf(process.platform !== 'linux')(
    'a write that fails with EBADF is reported once and never throws (the GUI-process crash)',
    async () => {
      const errors: Error[] = [];
      const log = await openFileLog({ folder, onError: (error) => errors.push(error) });
      const logger = createLogger({ destination: log.destination });
      logger.info({}, 'first line');
      await settle();
      // Close the log's descriptor behind its back, as a GUI process without the handle would see.
      const file = join(folder, 'main.1.log');
      const fd = readdirSync('/proc/self/fd').find((entry) => {
        try {
          return readlinkSync(`/proc/self/fd/${entry}`) === file;
        } catch {
          return false;
        }
      });
      expect(fd).toBeDefined();
      closeSync(Number(fd));
      for (let index = 0; index < 5; index += 1) {
        expect(() => logger.info({ index }, 'after the descriptor is gone')).not.toThrow();
        await settle();
      }
      expect(errors).toHaveLength(1);
      expect((errors[0] as NodeJS.ErrnoException).code).toBe('EBADF');
      await log.close();
    },
  );

  it('a folder that cannot be created is reported once and lines are dropped', async () => {
    const blocker = join(folder, 'not-a-folder');
    writeFileSync(blocker, '');
    const errors: Error[] = [];
    const log = await openFileLog({
      folder: join(blocker, 'logs'),
      onError: (e) => errors.push(e),
    });
    const logger = createLogger({ destination: log.destination });
    expect(() => logger.error({}, 'nowhere to go')).not.toThrow();
    await log.close();
    expect(errors).toHaveLength(1);
  });
});
