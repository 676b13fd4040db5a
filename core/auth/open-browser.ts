/** Opens a URL with the system's opener (xdg-open, open, or the Windows shell). */
import { spawn } from 'node:child_process';

/** The opener command and arguments for a platform. */
export function openerCommand(
  url: string,
  platform: NodeJS.Platform = process.platform,
): [string, string[]] {
  if (platform === 'darwin') return ['open', [url]];
  // rundll32 hands the URL to the default browser without cmd.exe parsing its `&`s.
  if (platform === 'win32') return ['rundll32', ['url.dll,FileProtocolHandler', url]];
  return ['xdg-open', [url]];
}

/** How long `openInBrowser` waits for the opener's exit code before taking a live opener as success. */
export const openerWaitMs = 1_500;

/**
 * Opens `url` in the default browser, detached. Resolves true when the opener exited 0, or is still
 * running after `waitMs` (some openers stay with the browser they started); false when it could
 * not start (none installed) or exited non-zero (xdg-open's 3 on a machine without a browser or
 * display): the caller prints the URL instead. `env` (the opener's environment, `PATH` included)
 * and `waitMs` are for tests.
 */
export function openInBrowser(
  url: string,
  platform: NodeJS.Platform = process.platform,
  options: { env?: NodeJS.ProcessEnv; waitMs?: number } = {},
): Promise<boolean> {
  const [command, args] = openerCommand(url, platform);
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const settle = (opened: boolean) => {
      clearTimeout(timer);
      resolve(opened);
    };
    try {
      const child = spawn(command, args, {
        detached: true,
        stdio: 'ignore',
        ...(options.env ? { env: options.env } : {}),
      });
      child.once('error', () => settle(false));
      // Started is not opened: only the exit code says whether a browser took the URL.
      child.once('exit', (code) => settle(code === 0));
      child.once('spawn', () => {
        timer = setTimeout(() => {
          // Still running: it handed the URL on and stays with the browser; never waited for.
          child.unref();
          settle(true);
        }, options.waitMs ?? openerWaitMs);
      });
    } catch {
      settle(false);
    }
  });
}
