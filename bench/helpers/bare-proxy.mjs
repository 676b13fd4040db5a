// A pass-through proxy with nothing but undici and `pipeline`: the floor any router can reach.
// Run as its own process (like the router), so both pay the same scheduling costs:
//
//   node bench/helpers/bare-proxy.mjs UPSTREAM_ORIGIN CONNECTIONS   (prints "listening on URL")
import { createServer } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';

const [upstreamOrigin, connections = '128'] = process.argv.slice(2);
const pool = new Pool(upstreamOrigin, { connections: Number(connections), pipelining: 1 });
const server = createServer(async (incoming, outgoing) => {
  try {
    const chunks = [];
    for await (const chunk of incoming) chunks.push(chunk);
    const headers = { ...incoming.headers };
    delete headers.host;
    delete headers.connection;
    const upstream = await pool.request({
      path: incoming.url,
      method: incoming.method,
      headers,
      body: Buffer.concat(chunks),
    });
    const responseHeaders = { ...upstream.headers };
    delete responseHeaders.connection;
    delete responseHeaders['transfer-encoding'];
    outgoing.writeHead(upstream.statusCode, responseHeaders);
    await pipeline(upstream.body, outgoing);
  } catch (error) {
    if (!outgoing.headersSent) outgoing.writeHead(502);
    outgoing.end(String(error));
  }
});
server.listen(0, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => void pool.close().finally(() => process.exit(0)));
});
