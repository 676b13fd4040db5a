// What a Codex session's upstream WebSocket costs the client that opens it, against one request on
// a keep-alive HTTP connection (what the bare pass-through in proxy-bodies.mjs pays per request).
// The router opens one upstream socket per session, as native Codex does (its handshake carries the
// session's identity), so a session's first turn pays for a connection: this bench measures that
// cost apart from everything else the router does, to explain the short-session rows of
// proxy-bodies.mjs (docs/benchmarks.md, "Fourth round").
//
// The server runs in a child process (a `ws` server and a plain HTTP server answering each frame
// or request with a short reply); the client is this process, whose CPU (process.cpuUsage: every
// thread) is what is measured. Per repetition, in a rotating order:
//   - `socket per turn`: a new WebSocket with Codex's handshake headers (a ~1.9 KB bearer, the
//     beta header, identity headers, permessage-deflate offered, as the router does), one text
//     frame of the body, the reply, then the socket closed;
//   - `open socket`: the same frame on one socket kept open (an incremental turn's transport);
//   - `keep-alive HTTP`: the body POSTed with undici on a kept-alive connection.
// Bodies: 2.4 KB (an incremental turn) and 300 KB (a long session's full first turn). The report
// gives CPU µs per turn, min / median / max over the repetitions, and each ratio to keep-alive
// HTTP in the same repetition.
//
//   node bench/websocket-session-cost.mjs [--repetitions N] [--turns N]
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { Agent, request } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import { percentile } from './helpers/measure.mjs';
import { benchOptions } from './helpers/options.ts';

if (process.argv[2] === 'serve') {
  const server = createServer((incoming, outgoing) => {
    incoming.resume();
    incoming.on('end', () => outgoing.end('ok'));
  });
  const sockets = new WebSocketServer({ server, maxPayload: 64 * 1024 * 1024 });
  sockets.on('connection', (socket) => socket.on('message', () => socket.send('ok')));
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
} else {
  const options = benchOptions(
    'node bench/websocket-session-cost.mjs [--repetitions N] [--turns N]',
    {
      repetitions: 5,
      turns: 200,
    },
  );
  const repetitions = options.repetitions;
  const turns = options.turns;
  const loadAtStart = loadavg()
    .map((value) => value.toFixed(2))
    .join(', ');
  const child = fork(import.meta.filename, ['serve']);
  const port = await new Promise((resolve) => child.once('message', resolve));
  const origin = `http://127.0.0.1:${port}`;
  const handshake = {
    authorization: `Bearer ${'a'.repeat(1900)}`,
    'chatgpt-account-id': '7f1c2d3e-0000-4000-8000-000000000001',
    'openai-beta': 'responses_websockets=2026-02-06',
    originator: 'codex_exec',
    'user-agent': 'codex_exec/0.171.0 (Debian 12.0.0; x86_64) xterm (codex_exec; 0.171.0)',
    session_id: '019a0000-72ea-73c1-b961-fbcd4ef19122',
    version: '0.171.0',
  };
  const agent = new Agent({ connections: 1, pipelining: 1 });
  const bodyOf = (bytes) => `{"type":"response.create","input":"${'x'.repeat(bytes - 40)}"}`;

  /** Resolves once `socket` emits `event`. */
  const next = (socket, event) => new Promise((resolve) => socket.once(event, resolve));

  /** A socket opened with Codex's handshake, as the router opens one. */
  const openSocket = async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}`, {
      headers: handshake,
      perMessageDeflate: true,
    });
    await next(socket, 'open');
    return socket;
  };

  let kept = null;
  const variants = {
    'socket per turn': async (body) => {
      const socket = await openSocket();
      const reply = next(socket, 'message');
      socket.send(body, { binary: false });
      await reply;
      const closed = next(socket, 'close');
      socket.terminate();
      await closed;
    },
    'open socket': async (body) => {
      kept ??= await openSocket();
      const reply = next(kept, 'message');
      kept.send(body, { binary: false });
      await reply;
    },
    'keep-alive HTTP': async (body) => {
      const answer = await request(`${origin}/responses`, {
        method: 'POST',
        dispatcher: agent,
        headers: { ...handshake, 'content-type': 'application/json' },
        body,
      });
      await answer.body.text();
    },
  };
  const sizes = [2.4, 300];
  const names = Object.keys(variants);
  /** CPU µs per turn, per size and variant, one figure per repetition. */
  const results = new Map();
  for (let repetition = -1; repetition < repetitions; repetition += 1) {
    const pairs = sizes.flatMap((kb) => names.map((name) => ({ kb, name })));
    const order = pairs.map((_, index) => pairs[(index + repetition + 1) % pairs.length]);
    for (const { kb, name } of order) {
      const body = Buffer.from(bodyOf(Math.round(kb * 1024)));
      const count = repetition < 0 ? 50 : turns;
      const before = process.cpuUsage();
      for (let turn = 0; turn < count; turn += 1) await variants[name](Buffer.from(body));
      const used = process.cpuUsage(before);
      if (repetition < 0) continue;
      const key = `${kb}:${name}`;
      const list = results.get(key) ?? [];
      list.push((used.user + used.system) / count);
      results.set(key, list);
    }
  }
  kept?.terminate();
  await agent.close();
  child.kill();

  const range = (values, digits) =>
    `${Math.min(...values).toFixed(digits)} / ${percentile(values, 50).toFixed(digits)} / ${Math.max(...values).toFixed(digits)}`;
  console.log(
    `Measured ${new Date().toISOString().slice(0, 10)} with \`node bench/websocket-session-cost.mjs --repetitions ${repetitions} --turns ${turns}\` on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}: the client's CPU per turn (every thread), loopback, the server in a child process; load average ${loadAtStart} at the start, ${loadavg()
      .map((value) => value.toFixed(2))
      .join(', ')} at the end.`,
  );
  console.log('');
  console.log('| body | transport | CPU µs per turn (min / median / max) | / keep-alive HTTP |');
  console.log('|---|---|---|---|');
  for (const kb of sizes) {
    const floor = results.get(`${kb}:keep-alive HTTP`);
    for (const name of names) {
      const mine = results.get(`${kb}:${name}`);
      const ratios = mine.map((value, index) => value / floor[index]);
      console.log(`| ${kb} KB | ${name} | ${range(mine, 0)} | ${range(ratios, 2)} |`);
    }
  }
}
