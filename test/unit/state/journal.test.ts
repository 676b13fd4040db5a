import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal, readJournal } from '../../../core/state/journal.ts';
import { FakeClock } from '../router/fake-clock.ts';

let folder: string;
let path: string;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'codex-lab-journal-'));
  path = join(folder, 'state', 'activity.jsonl');
});
afterEach(() => rm(folder, { recursive: true, force: true }));

async function lines(): Promise<string[]> {
  return (await readFile(path, 'utf8')).trim().split('\n');
}

describe('Journal', () => {
  it('writes appended records in one batch after the delay, 0600 in a 0700 folder', async () => {
    const clock = new FakeClock();
    const journal = new Journal({ path, clock, flushDelayMs: 1000 });
    await journal.load();
    journal.append({ type: 'request', id: 1 });
    journal.append({ type: 'request', id: 2 });
    expect(clock.pending).toBe(1);
    await expect(stat(path)).rejects.toThrow();
    clock.advance(1000);
    await journal.flush();
    expect(await lines()).toEqual(['{"type":"request","id":1}', '{"type":"request","id":2}']);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(folder, 'state'))).mode & 0o777).toBe(0o700);
  });

  it('makes its folder again when it is removed while the journal runs', async () => {
    const clock = new FakeClock();
    const journal = new Journal({ path, clock });
    await journal.load();
    journal.append({ type: 'request', id: 1 });
    await journal.flush();
    await rm(join(folder, 'state'), { recursive: true, force: true });
    journal.append({ type: 'request', id: 2 });
    await journal.flush();
    expect(await lines()).toEqual(['{"type":"request","id":2}']);
    expect((await stat(join(folder, 'state'))).mode & 0o777).toBe(0o700);
  });

  it('stays bounded: past 1.5 × capacity the file is rewritten with the newest lines', async () => {
    const clock = new FakeClock();
    const journal = new Journal({ path, clock, capacity: 4 });
    await journal.load();
    for (let id = 1; id <= 6; id++) {
      journal.append({ type: 'activity', id });
      await journal.flush();
    }
    // 6 lines = 1.5 × 4: still appended; the 7th compacts to the newest 4.
    expect(await lines()).toHaveLength(6);
    journal.append({ type: 'activity', id: 7 });
    await journal.flush();
    expect((await lines()).map((line) => JSON.parse(line).id)).toEqual([4, 5, 6, 7]);

    // A new process continues from the file, and its compaction keeps the old newest lines.
    const next = new Journal({ path, clock, capacity: 4 });
    expect((await next.load()).records.map((record) => record['id'])).toEqual([4, 5, 6, 7]);
    for (let id = 8; id <= 10; id++) next.append({ type: 'activity', id });
    await next.flush();
    expect((await lines()).map((line) => JSON.parse(line).id)).toEqual([7, 8, 9, 10]);
  });

  it('drops a torn last line, but reports a damaged file by name and never overwrites it', async () => {
    const clock = new FakeClock();
    await new Journal({ path, clock }).load();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(folder, 'state'), { recursive: true });
    await writeFile(path, '{"type":"activity","id":1}\n{"type":"activ');
    expect(await readJournal(path)).toEqual({
      records: [{ type: 'activity', id: 1 }],
      problem: null,
      tornTail: true,
    });
    // The next writer cuts the fragment off before it appends, and touches nothing until then
    // (a process that loads and then does not become the writer leaves the file as it was).
    // The same for a whole record that did not get its newline.
    for (const [text, kept] of [
      ['{"type":"activity","id":1}\n{"type":"activ', 1],
      ['{"type":"activity","id":1}', 1],
      ['{"type":"activ', 0],
    ] as const) {
      await writeFile(path, text);
      const writer = new Journal({ path, clock });
      expect((await writer.load()).tornTail).toBe(true);
      expect(await readFile(path, 'utf8')).toBe(text);
      writer.append({ type: 'activity', id: 2 });
      await writer.flush();
      expect(await readJournal(path), text).toEqual({
        records: [
          ...(kept === 1 ? [{ type: 'activity', id: 1 }] : []),
          { type: 'activity', id: 2 },
        ],
        problem: null,
        tornTail: false,
      });
    }

    const damaged = 'not json\n{"type":"activity","id":2}\n';
    await writeFile(path, damaged);
    const journal = new Journal({ path, clock });
    const content = await journal.load();
    expect(content.problem).toBe(
      `${path} is damaged at line 1; move it away to start a fresh activity log.`,
    );
    journal.append({ type: 'activity', id: 3 });
    await journal.flush();
    expect(await readFile(path, 'utf8')).toBe(damaged);
  });

  it('reports a whole last line that is no record as damage, never as a torn tail, and never cuts it', async () => {
    const clock = new FakeClock();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(folder, 'state'), { recursive: true });
    // A torn tail is only a last line without its newline: a line that got its newline was
    // written whole, so one that is no record is damage like any other line.
    for (const last of ['[]', 'null', '\0\0\0\0', '{"version":99}', '{"type":"activ']) {
      const text = `{"type":"activity","id":1}\n${last}\n`;
      await writeFile(path, text);
      expect(await readJournal(path), JSON.stringify(last)).toEqual({
        records: [{ type: 'activity', id: 1 }],
        problem: `${path} is damaged at line 2; move it away to start a fresh activity log.`,
        tornTail: false,
      });
      const writer = new Journal({ path, clock });
      expect((await writer.load()).problem).not.toBeNull();
      writer.append({ type: 'activity', id: 2 });
      await writer.flush();
      expect(await readFile(path, 'utf8')).toBe(text);
    }
    await writeFile(path, '[]\n');
    expect((await readJournal(path)).problem).toBe(
      `${path} is damaged at line 1; move it away to start a fresh activity log.`,
    );
  });
});
