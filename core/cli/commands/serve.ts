/**
 * `codex-lab serve [--port N]`: the headless router, control API, quota polling, priming timer
 * and web dashboard in one process, until SIGINT or SIGTERM.
 *
 * stdout gets one line with the listening URL (scripts read it, `--port 0` included). The
 * dashboard URL carries the router token in its fragment, so it is printed only when asked for
 * with `--print-dashboard-url`. While it serves, `state/router.json` records its port and pid (so
 * `codex-lab codex` finds a `--port 0` router); a clean shutdown removes it.
 */
import { isLoopbackAddress } from '../../auth/loopback.ts';
import { LabError } from '../../errors.ts';
import { createLogger } from '../../log.ts';
import { parsePortText } from '../../config.ts';
import { systemClock } from '../../ports.ts';
import { LabService } from '../../service/lab-service.ts';
import { removeRouterInfo, writeRouterInfo } from '../../service/router-info.ts';
import { writeLine, type CliContext } from '../context.ts';
import { codexLabLauncher } from '../path-search.ts';

/** Runs the router until a signal arrives; resolves to the exit code. */
export async function runServe(
  context: CliContext,
  _args: string[],
  options: Record<string, unknown> = {},
): Promise<number> {
  const host = typeof options['host'] === 'string' ? options['host'] : '127.0.0.1';
  if (!isLoopbackAddress(host)) {
    // Loud on purpose: the router hands out every profile's quota to whoever holds the token.
    writeLine(
      context.stderr,
      `codex-lab: WARNING: --host ${host} exposes the router beyond this machine. Anyone who can reach ${host} and learns the router token can use every signed-in account; use 127.0.0.1 unless you really mean it.`,
    );
  }
  const port =
    options['port'] !== undefined
      ? parsePortText(String(options['port']).trim(), '--port', true, 'invalid_argument')
      : context.config.port;
  let token = '';
  const logger = createLogger({
    level: context.config.logLevel ?? 'info',
    // Human lines on a terminal; JSON in a pipe or a file, or when asked for.
    ...(options['logJson'] === true ? { format: 'json' as const } : {}),
    secrets: () => (token ? [token] : []),
  });
  // Listen for signals before anything starts: a SIGTERM that arrives while the router is still
  // starting must still end in a clean shutdown (router.json removed, exit code 0), not kill it.
  let requestStop = () => {};
  const stopRequested = new Promise<void>((resolve) => {
    requestStop = resolve;
  });
  const onSignal = () => requestStop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await serveUntilStopped(context, {
      port,
      host,
      logger,
      stopRequested,
      setToken,
      printDashboardUrl: options['printDashboardUrl'] === true,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  function setToken(value: string): void {
    token = value;
  }
}

/** Starts the router, serves until `stopRequested` settles, then shuts down cleanly. */
async function serveUntilStopped(
  context: CliContext,
  run: {
    port: number;
    host: string;
    logger: ReturnType<typeof createLogger>;
    stopRequested: Promise<void>;
    setToken: (token: string) => void;
    printDashboardUrl: boolean;
  },
): Promise<number> {
  const { port, host, logger } = run;
  const service = new LabService({
    paths: context.paths,
    config: context.config,
    clock: systemClock,
    logger,
    codexLauncher: codexLabLauncher(context.env),
  });
  const token = await service.routerToken();
  run.setToken(token);
  let started: { url: string; port: number };
  try {
    started = await service.start({ port, host });
  } catch (error) {
    await service.stop().catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new LabError(
        'port_in_use',
        `Port ${port} is already in use: stop the other router or pass --port (0 picks a free one).`,
      );
    }
    throw error;
  }
  try {
    await writeRouterInfo(context.paths, { port: started.port, pid: process.pid });
  } catch (error) {
    await service.stop().catch(() => undefined);
    throw error;
  }
  writeLine(context.stdout, `Codex Lab router listening on ${started.url}`);
  if (run.printDashboardUrl) {
    writeLine(context.stdout, `Dashboard: ${started.url}/ui/#token=${token}`);
  } else {
    writeLine(
      context.stderr,
      `Dashboard: ${started.url}/ui/ (open it with the token: codex-lab token prints it)`,
    );
  }

  await run.stopRequested;
  try {
    await service.stop();
  } finally {
    await removeRouterInfo(context.paths, process.pid);
  }
  writeLine(context.stderr, 'Codex Lab router stopped.');
  return 0;
}
