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

/**
 * Opens `url` in the default browser, detached. Resolves true when the opener started, false when
 * it could not (no opener installed, no display): the caller prints the URL anyway.
 */
export function openInBrowser(
  url: string,
  platform: NodeJS.Platform = process.platform,
): Promise<boolean> {
  const [command, args] = openerCommand(url, platform);
  return new Promise((resolve) => {
    try {
      const child = spawn(command, args, { detached: true, stdio: 'ignore' });
      child.once('error', () => resolve(false));
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}
