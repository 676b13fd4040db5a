/**
 * `openInBrowser` says whether a browser took the URL: a started opener is not enough, since
 * xdg-open on a machine without a browser or display starts, then exits 3. Fake openers on `PATH`
 * stand for the system's.
 */
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openInBrowser } from '../../../core/auth/open-browser.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';

/** The system's `sleep` (the fake `PATH` below holds nothing else). */
const sleepBinary = ['/bin/sleep', '/usr/bin/sleep'].find((path) => existsSync(path)) ?? 'sleep';

/** A `PATH` holding only an `xdg-open` that runs `body` (a shell script). */
function pathWithOpener(body: string | null): NodeJS.ProcessEnv {
  const bin = tempFolder('codex-lab-opener-');
  if (body !== null) {
    const opener = join(bin, 'xdg-open');
    writeFileSync(opener, `#!/bin/sh\n${body}\n`);
    chmodSync(opener, 0o755);
  }
  return { PATH: bin };
}

describe.skipIf(process.platform === 'win32')('openInBrowser', () => {
  it('is true when the opener exits 0', async () => {
    expect(
      await openInBrowser('http://127.0.0.1:1/', 'linux', { env: pathWithOpener('exit 0') }),
    ).toBe(true);
  });

  it('is false when the opener exits non-zero (xdg-open without a browser exits 3)', async () => {
    expect(
      await openInBrowser('http://127.0.0.1:1/', 'linux', { env: pathWithOpener('exit 3') }),
    ).toBe(false);
  });

  it('is false when there is no opener', async () => {
    expect(await openInBrowser('http://127.0.0.1:1/', 'linux', { env: pathWithOpener(null) })).toBe(
      false,
    );
  });

  it('is true, without waiting for it, when the opener is still running after the wait', async () => {
    const started = Date.now();
    const opened = await openInBrowser('http://127.0.0.1:1/', 'linux', {
      env: pathWithOpener(`exec ${sleepBinary} 5`),
      waitMs: 200,
    });
    expect(opened).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
