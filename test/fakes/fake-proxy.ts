/**
 * A forward proxy on loopback that only tunnels (`CONNECT`), as corporate proxies do for https://
 * targets: every tunnel is recorded by the host and port asked for, and any host is reached on
 * 127.0.0.1, so a test can name the fake ChatGPT by a host name that resolves nowhere else
 * (`chatgpt.test`): a request that skips the proxy fails instead of passing unnoticed.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/** A running fake proxy. */
export interface FakeProxy {
  /** `http://127.0.0.1:<port>`, for `HTTPS_PROXY` / `HTTP_PROXY`. */
  url: string;
  /** Every `CONNECT` target asked for (`host:port`), in order. */
  readonly tunnels: string[];
  /** Requests that were not `CONNECT` (a proxy that only tunnels refuses them). */
  readonly refused: string[];
  close(): Promise<void>;
}

/** Starts the proxy on an ephemeral loopback port. */
export async function startFakeProxy(): Promise<FakeProxy> {
  const tunnels: string[] = [];
  const refused: string[] = [];
  const open = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    refused.push(`${request.method} ${request.url}`);
    response.writeHead(405, { connection: 'close' }).end();
  });
  server.on('connect', (request, client: Socket, head: Buffer) => {
    const target = request.url ?? '';
    tunnels.push(target);
    const port = Number(target.slice(target.lastIndexOf(':') + 1));
    const upstream = connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    refused,
    async close() {
      for (const socket of open) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
