/**
 * A process whose one write finds its file held open by another program, as on Windows:
 * `node held-open-write-child.ts PATH`. The first two renames are refused with EPERM; the write
 * waits on its real clock with nothing else keeping the process alive, then prints what the file
 * holds.
 */
import fs from 'node:fs';
import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from '../../core/home/files.ts';

const [path] = process.argv.slice(2);
if (!path) throw new Error('usage: PATH');
Object.defineProperty(process, 'platform', { value: 'win32' });
const rename = fs.rename.bind(fs);
let refusals = 2;
fs.rename = ((from: fs.PathLike, to: fs.PathLike, callback: (error: Error | null) => void) => {
  if (refusals-- <= 0) return rename(from, to, callback);
  const error = Object.assign(new Error('EPERM: operation not permitted, rename'), {
    code: 'EPERM',
    syscall: 'rename',
  });
  queueMicrotask(() => callback(error));
}) as typeof fs.rename;
await writeFileAtomically(path, 'new\n', { mode: 0o600 });
process.stdout.write(`holds ${(await readFile(path, 'utf8')).trim()}\n`);
