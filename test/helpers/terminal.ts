/**
 * A stand-in for a command's stdout: a terminal `columns` wide (or a pipe when null) that keeps
 * what is written, for tests of output that fits the terminal's width.
 */
import { Writable } from 'node:stream';

/** Stdout as a terminal of `columns` (or a pipe when null), collecting what is written. */
export function terminal(columns: number | null): Writable & { text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  if (columns !== null) Object.assign(stream, { isTTY: true, columns });
  return Object.assign(stream, { text: () => text });
}
