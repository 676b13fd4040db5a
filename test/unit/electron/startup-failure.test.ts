/**
 * A desktop start-up failure (electron/startup/startup-failure.ts): the error reaches the app's
 * log file, scrubbed, before the dialog, and the dialog names that file's folder rather than a
 * Preferences menu the quitting app no longer has.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LabError } from '../../../core/errors.ts';
import { openFileLog } from '../../../electron/logging/file-log.ts';
import {
  recordStartupFailure,
  startupFailureDialog,
} from '../../../electron/startup/startup-failure.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';

/** A JWT-shaped credential, as an upstream error might quote one. */
const planted = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJzZWNyZXQtdXNlciJ9.c2lnbmF0dXJl';

describe('a desktop start-up failure', () => {
  it('writes an unexpected error to the log file, scrubbed, then names the log folder', async () => {
    const folder = join(tempFolder('codex-lab-startup-'), 'logs');
    const log = await openFileLog({ folder, onError: () => undefined });
    const error = new TypeError(`cannot read the thing (Bearer ${planted})`);
    const text = recordStartupFailure(error, { ...log, writable: () => true });
    await log.close();

    const written = readFileSync(join(folder, 'main.1.log'), 'utf8');
    const line = JSON.parse(written.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(line['msg']).toBe('Codex Lab could not start');
    expect(line['level']).toBe(50);
    expect(written).toContain('cannot read the thing');
    expect(written).toContain('startup-failure.test.ts'); // the stack, to find the bug from
    expect(written).not.toContain(planted);
    expect(text).toEqual({
      title: 'Codex Lab could not start',
      content: `Codex Lab hit an unexpected error while starting; the details are in its log file (main.1.log or the highest-numbered main.N.log) in ${folder}.`,
    });
    expect(text.content).not.toContain('Preferences');
  });

  it('scrubs the router token the host already knew, which no pattern recognises', async () => {
    const folder = join(tempFolder('codex-lab-startup-'), 'logs');
    const log = await openFileLog({ folder, onError: () => undefined });
    const routerToken = 'clab_Zq8xV3pLmN0rT6yW2bK9';
    recordStartupFailure(
      new Error(`could not reach the router with ${routerToken}`),
      { ...log, writable: () => true },
      [routerToken],
    );
    await log.close();
    const written = readFileSync(join(folder, 'main.1.log'), 'utf8');
    expect(written).toContain('could not reach the router with');
    expect(written).not.toContain(routerToken);
  });

  it('logs an expected failure too, and shows its own sentence', async () => {
    const folder = join(tempFolder('codex-lab-startup-'), 'logs');
    const log = await openFileLog({ folder, onError: () => undefined });
    const error = new LabError('port_in_use', 'Port 1456 on 127.0.0.1 is already in use.');
    expect(recordStartupFailure(error, { ...log, writable: () => true }).content).toBe(
      'Port 1456 on 127.0.0.1 is already in use.',
    );
    await log.close();
    expect(readFileSync(join(folder, 'main.1.log'), 'utf8')).toContain('already in use');
  });

  it('does not send the user to a log that could not be written', () => {
    const unwritten = {
      destination: { write: () => undefined },
      folder: '/logs',
      writable: () => false,
    };
    for (const log of [unwritten, null]) {
      const { content } = recordStartupFailure(new Error('boom'), log);
      expect(content).toBe(
        'Codex Lab hit an unexpected error while starting, and could not write its log file either: start it again, and if it fails the same way, report it.',
      );
    }
    expect(startupFailureDialog('not an error', '/logs').content).toContain('in /logs.');
  });
});
