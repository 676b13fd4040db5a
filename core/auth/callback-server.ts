/**
 * The loopback callback server's socket, bound as Codex binds it (research section 1.4): on
 * 127.0.0.1 only; if the port is busy, ask an older login server there to exit (`GET /cancel`),
 * then retry every 200 ms, up to 10 times; then, when a fallback port is given (Codex falls back
 * from 1455 to 1457), try that once; then fail with one clear `port_in_use` error.
 */
import { createServer, request as httpRequest, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LabError } from '../errors.ts';
import { defaultCallbackPort } from '../config.ts';
import type { Clock, Logger } from '../ports.ts';

/** Options for `bindCallbackServer`. */
export interface BindOptions {
  /** The port to bind; 0 picks a free one. */
  port: number;
  listener: RequestListener;
  clock: Clock;
  logger: Logger;
  /** Bind attempts after the first failure. Default 10. */
  attempts?: number;
  /** Pause between attempts. Default 200 ms. */
  intervalMs?: number;
  /** A second port to try once when `port` stays busy (1457 for Codex's default 1455). */
  fallbackPort?: number;
}

/** A bound callback server and its actual port. */
export interface BoundServer {
  server: Server;
  port: number;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** Binds `listener` on 127.0.0.1:`port`, handling a busy port as Codex does. */
export async function bindCallbackServer(options: BindOptions): Promise<BoundServer> {
  const attempts = options.attempts ?? 10;
  const intervalMs = options.intervalMs ?? 200;
  let cancelSent = false;
  for (let attempt = 0; ; attempt += 1) {
    const server = createServer(options.listener);
    try {
      await listen(server, options.port);
      const port = (server.address() as AddressInfo).port;
      return {
        server,
        port,
        close: () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
        throw new LabError(
          'io_error',
          `Could not start the sign-in callback server on 127.0.0.1:${options.port}: ${(error as Error).message}.`,
          { cause: error },
        );
      }
      if (!cancelSent) {
        cancelSent = true;
        options.logger.info(
          { port: options.port },
          'callback port busy; asking the old login server to exit',
        );
        await sendCancel(options.port);
      }
      if (attempt >= attempts) {
        if (options.fallbackPort !== undefined) {
          const fallback = await tryListen(options.listener, options.fallbackPort);
          if (fallback) return fallback;
        }
        // Only Codex's own ports are on the issuer's allow-list: a random port would not help.
        const ports =
          options.fallbackPort === undefined
            ? `Port 127.0.0.1:${options.port} is`
            : `Ports 127.0.0.1:${options.port} and ${options.fallbackPort} are`;
        throw new LabError(
          'port_in_use',
          `${ports} already in use, so the sign-in callback cannot listen there (CODEX_LAB_CALLBACK_PORT chooses it; ${defaultCallbackPort} by default, the port OpenAI's sign-in expects). Close the program using it (another sign-in or codex login) and try again.`,
          { details: { port: options.port } },
        );
      }
      await sleep(options.clock, intervalMs);
    }
  }
}

/** One attempt on `port`: the bound server, or null when the port is busy. */
async function tryListen(listener: RequestListener, port: number): Promise<BoundServer | null> {
  const server = createServer(listener);
  try {
    await listen(server, port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') return null;
    throw new LabError(
      'io_error',
      `Could not start the sign-in callback server on 127.0.0.1:${port}: ${(error as Error).message}.`,
      { cause: error },
    );
  }
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      // A failed accept (EMFILE) is the listening server's 'error': unheard, it would end the
      // process with a stack trace. The sign-in waits on, and the next connection is accepted.
      server.on('error', () => undefined);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, '127.0.0.1');
  });
}

/** One `GET /cancel` to whatever listens on the port, with a 2 s limit; every outcome is fine. */
function sendCancel(port: number): Promise<void> {
  return new Promise((resolve) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, path: '/cancel', method: 'GET', timeout: 2000 },
      (response) => {
        response.resume();
        response.on('end', () => resolve());
        response.on('error', () => resolve());
      },
    );
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve());
    request.on('close', () => resolve());
    request.end();
  });
}

function sleep(clock: Clock, delayMs: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, delayMs));
}
