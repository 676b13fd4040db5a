/**
 * A process standing for the router while its keychain stalls, for the real-keychain test:
 * `node keyring-stall-child.ts`, under the D-Bus session of a gnome-keyring the test controls. It
 * saves an entry and prints `ready`; on each line `go` on stdin (the test has stopped or is about
 * to kill the daemon) it makes 8 keychain reads, times a file read meanwhile, and prints one JSON
 * line: how long the file read took and how each keychain read ended.
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { isLabError } from '../../core/errors.ts';
import { createSystemKeyring } from '../../core/profiles/keyring.ts';

const keyring = createSystemKeyring({ timeoutMs: 1000 });
const account = `codex-lab-stall-${process.pid}`;
await keyring.set(account, 'stall');
process.stdout.write('ready\n');

for await (const line of createInterface({ input: process.stdin })) {
  if (line !== 'go') continue;
  const started = Date.now();
  const calls = Array.from({ length: 8 }, () =>
    keyring.get(account).then(
      () => ({ code: 'ok', ms: Date.now() - started }),
      (error: unknown) => ({
        code: isLabError(error) ? error.code : String(error),
        ms: Date.now() - started,
      }),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  const fileStarted = Date.now();
  await readFile(import.meta.filename);
  const fileMs = Date.now() - fileStarted;
  process.stdout.write(`${JSON.stringify({ fileMs, calls: await Promise.all(calls) })}\n`);
}
