/**
 * `codex-lab serve [--port N]`: the headless router, control API, quota polling, priming timer
 * and web dashboard in one process, until SIGINT, SIGTERM or SIGHUP.
 *
 * One router per home: a second `serve` for the same home says where the first one runs and exits
 * 1 without touching it. stdout's first line is the listening URL (scripts read it, `--port 0`
 * included); the lines after it name an outbound proxy and an upstream transport switched off. The
 * dashboard link carries the router token in its `#fragment`: it is printed only when asked
 * (`--print-dashboard-url`, on stdout); otherwise, terminal or not, the dashboard's address is
 * printed without it, with the command that opens it (`codex-lab dashboard`); a dashboard not
 * built is said so, with the command that builds it, and no link. A port or host it
 * cannot listen on is one sentence naming the one asked for and how to choose another. While it
 * serves, `state/router.json` records it for every client; `codex-lab stop` or a signal ends it
 * cleanly.
 */
import { isLoopbackAddress } from '../../net/loopback.ts';
import { reportFileWarningsTo } from '../../home/files.ts';
import { createLogger } from '../../log.ts';
import { proxyFor } from '../../net/proxy.ts';
import { scrubSecrets } from '../../redact.ts';
import { parsePortText, routerDrainMs } from '../../config.ts';
import { systemClock } from '../../ports.ts';
import { LabService } from '../../service/lab-service.ts';
import { startRouterHost } from '../../service/router-host.ts';
import { dashboardBuildCommand } from '../../service/dashboard-files.ts';
import { LabError } from '../../errors.ts';
import { writeLine, type CliContext } from '../context.ts';
import { criticalExit, stopSignals } from '../critical-exit.ts';
import { codexLabLauncher } from '../path-search.ts';

/** Runs the router until a signal arrives; resolves to the exit code. */
export async function runServe(
  context: CliContext,
  _args: string[],
  options: Record<string, unknown> = {},
): Promise<number> {
  const hostGiven = typeof options['host'] === 'string';
  const host = hostGiven ? String(options['host']).trim() : '127.0.0.1';
  if (host === '') {
    // Node would take an empty address as "every interface": never by accident.
    throw new LabError(
      'invalid_argument',
      '--host needs an address to listen on (127.0.0.1 keeps the router on this machine), not an empty value.',
    );
  }
  const portGiven = options['port'] !== undefined;
  const port = portGiven
    ? parsePortText(String(options['port']).trim(), '--port', true, 'invalid_argument')
    : context.config.port;
  // A port or host the router cannot listen on is said with the way this user chose it.
  const portAdvice = portGiven
    ? 'choose another with --port (0 picks a free one)'
    : context.config.portFromEnvironment
      ? 'set CODEX_LAB_PORT to a free port (or pass --port)'
      : 'choose a free port with --port or CODEX_LAB_PORT';
  const hostAdvice = hostGiven
    ? 'give --host an address of this machine, or leave it out to listen on 127.0.0.1'
    : undefined;
  // Every router token this process held: a rotated-out one is still scrubbed from its lines.
  const tokens: string[] = [];
  const logger = createLogger({
    level: context.config.logLevel ?? 'info',
    // Human lines on a terminal; JSON in a pipe or a file, or when asked for.
    ...(options['logJson'] === true ? { format: 'json' as const } : {}),
    secrets: () => tokens,
  });
  // A write kept waiting by another program holding its file open (Windows) is said in the log.
  reportFileWarningsTo(logger);
  // Listen for signals before anything starts: a SIGTERM that arrives while the router is still
  // starting must still end in a clean shutdown (router.json removed, exit code 0), not kill it.
  let requestStop = () => {};
  const stopRequested = new Promise<void>((resolve) => {
    requestStop = resolve;
  });
  // The first signal stops the router after its turns in flight finish; the next one (or one
  // after `codex-lab stop` asked) ends them at once.
  const stopNow = new AbortController();
  let stopping = false;
  // The refreshes in flight are finished before the process ends: the listeners stay until then,
  // so no later signal (nor a signal-exit hook) can end it with a token spent and its
  // successor not yet on disk. SIGHUP (a closed terminal, a service manager) stops it the same way.
  const exit = criticalExit(context.stderr);
  const onSignal = () => {
    if (stopping) {
      stopNow.abort();
      exit.signalled();
    }
    stopping = true;
    requestStop();
  };
  for (const signal of stopSignals) process.on(signal, onSignal);
  try {
    return await serveUntilStopped(context, {
      port,
      host,
      portAdvice,
      ...(hostAdvice === undefined ? {} : { hostAdvice }),
      logger,
      stopRequested,
      stopNow: stopNow.signal,
      onStopping: () => {
        stopping = true;
      },
      addToken,
      printDashboardUrl: options['printDashboardUrl'] === true,
      criticalWorkSettled: () => exit.settled(),
    });
  } finally {
    // Also when serving failed on the way out: a refresh it started still lands first.
    await exit.settled();
    for (const signal of stopSignals) process.off(signal, onSignal);
  }

  function addToken(value: string): void {
    tokens.push(value);
  }
}

/** Starts the router, serves until `stopRequested` settles, then shuts down cleanly. */
async function serveUntilStopped(
  context: CliContext,
  run: {
    port: number;
    host: string;
    portAdvice: string;
    hostAdvice?: string;
    logger: ReturnType<typeof createLogger>;
    stopRequested: Promise<void>;
    /** Aborted when the user asks again: streams in flight end at once. */
    stopNow: AbortSignal;
    /** Called when a client asked the router to stop, so the next signal ends the drain. */
    onStopping: () => void;
    /** Hears each router token the service adopts (at start and at each rotation). */
    addToken: (token: string) => void;
    printDashboardUrl: boolean;
    /** Resolves once the token refreshes in flight have written their rotated tokens. */
    criticalWorkSettled: () => Promise<void>;
  },
): Promise<number> {
  const { port, host, logger } = run;
  let stopFromClient = () => {};
  const stopRequestedByClient = new Promise<void>((resolve) => {
    stopFromClient = resolve;
  });
  const service = new LabService({
    paths: context.paths,
    config: context.config,
    clock: systemClock,
    logger,
    codexLauncher: codexLabLauncher(context.env),
    shutdownDrainMs: routerDrainMs,
    onShutdownRequest: () => {
      run.onStopping();
      stopFromClient();
    },
    onRouterToken: run.addToken,
  });
  const token = await service.routerToken();
  const router = await startRouterHost(service, {
    paths: context.paths,
    port,
    host,
    kind: 'serve',
    portAdvice: run.portAdvice,
    ...(run.hostAdvice === undefined ? {} : { hostAdvice: run.hostAdvice }),
  });
  // Judged by the address bound, not the text typed: a name is what it resolves to (this
  // machine's name may be 127.0.0.1 in /etc/hosts, or its network address).
  const bound = router.info.address ?? host;
  if (!isLoopbackAddress(bound)) {
    // Loud on purpose: the router hands out every profile's quota to whoever holds the token.
    // Said once the router listens there: an address it refuses is said alone, with no warning.
    const named = bound === host ? host : `${host} (${bound})`;
    writeLine(
      context.stderr,
      `codex-lab: WARNING: --host ${named} exposes the router beyond this machine. Anyone who can reach ${host} and learns the router token can use every signed-in account; use 127.0.0.1 unless you really mean it.`,
    );
  }
  writeLine(context.stdout, `Codex Lab router listening on ${router.url}`);
  // Which way OpenAI is reached, when it is not direct (a proxy's password is never printed).
  const proxy = proxyFor(context.config.chatGptBaseUrl);
  if (proxy !== null) {
    writeLine(
      context.stdout,
      `Upstream ${new URL(context.config.chatGptBaseUrl).origin} through the proxy ${scrubSecrets(proxy)}`,
    );
  }
  // A transport switched off is named: a setting left in a shell profile shows at every start,
  // rather than as a slower uplink nobody connects with it (docs/routing.md).
  if (!context.config.upstreamWebSocket) {
    writeLine(
      context.stdout,
      'Upstream turns go over HTTP in full, not over WebSocket (CODEX_LAB_UPSTREAM_WEBSOCKET=off)',
    );
  }
  if (!context.config.upstreamZstd) {
    writeLine(
      context.stdout,
      'Upstream request bodies go uncompressed (CODEX_LAB_UPSTREAM_ZSTD=off)',
    );
  }
  const dashboard = dashboardLine(
    router.url,
    token,
    run.printDashboardUrl,
    service.dashboardBuilt(),
  );
  writeLine(dashboard.stream === 'stdout' ? context.stdout : context.stderr, dashboard.text);

  await Promise.race([run.stopRequested, stopRequestedByClient]);
  const inFlight = service.inFlight();
  if (inFlight > 0 && !run.stopNow.aborted) {
    writeLine(
      context.stderr,
      `Letting ${inFlight === 1 ? 'the request' : `${inFlight} requests`} in flight finish (at most ${routerDrainMs / 1000} s; Ctrl-C again ends ${inFlight === 1 ? 'it' : 'them'} now)…`,
    );
  }
  await router.stop({ drainMs: routerDrainMs, signal: run.stopNow });
  // The stop has waited for the refreshes its turns started; any other one in this process (none
  // today) must reach the disk too before "stopped" is said and the process ends.
  await run.criticalWorkSettled();
  writeLine(context.stderr, 'Codex Lab router stopped.');
  return 0;
}

/**
 * What `serve` says about its dashboard (docs/security.md): the link with the router token in its
 * `#fragment` only when asked (`--print-dashboard-url`), on stdout for a script to read; otherwise
 * the address without the token, on stderr, on a terminal as in a log, with the command that
 * opens it with the token. Not built (`dashboardBuilt`), no link at all, asked or not: that it is
 * not built and the command that builds it, on stderr.
 */
export function dashboardLine(
  routerUrl: string,
  token: string,
  printWithToken: boolean,
  built: boolean,
): { stream: 'stdout' | 'stderr'; text: string } {
  if (!built) {
    return { stream: 'stderr', text: `Dashboard: not built (${dashboardBuildCommand} builds it)` };
  }
  if (printWithToken) {
    return { stream: 'stdout', text: `Dashboard: ${routerUrl}/ui/#token=${token}` };
  }
  return {
    stream: 'stderr',
    text: `Dashboard: ${routerUrl}/ui/ (codex-lab dashboard opens it with the token)`,
  };
}
