// Upload bytes over a 20-turn Codex session: what reaches the upstream per turn through the router
// with zstd request bodies off (the router before), through the router with zstd on, through the
// router with the Responses-over-WebSocket upstream on (CODEX_LAB_UPSTREAM_WEBSOCKET), and what native Codex over Responses WebSocket would send for the same session (the
// first request whole, then a `response.create` frame with only the new items and
// `previous_response_id`; computed from the captured requests, frames uncompressed).
// Each repetition runs the three routers' sessions turn by turn, interleaved; the fake ChatGPT counts
// the bytes it receives. Reported: totals and ratios, min / median / max over the repetitions.
//
//   node bench/upload-bytes.mjs [--repetitions N] [--turns N] [--no-write]
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { startFakeChatGpt } from '../test/fakes/fake-chatgpt.ts';
import { enableResponsesWebSocket } from '../test/fakes/fake-responses-websocket.ts';
import {
  codexToolsItem,
  createProse,
  playCodexLikeSession,
  routerTurnSender,
} from '../test/helpers/codex-like-session.ts';
import { percentile, updateSection } from './helpers/measure.mjs';
import { seedBenchLab, startRouter } from './helpers/router.mjs';

const argument = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const repetitions = argument('repetitions', 5);
const turns = argument('turns', 20);
const writeResults = !process.argv.includes('--no-write');
const repoRoot = resolve(import.meta.dirname, '..');

const fake = await startFakeChatGpt({
  accounts: [
    {
      email: 'upload-a@example.com',
      usagePerTurn: 0,
      reply: 'I looked at the files and changed the handler as asked; the tests pass now.',
    },
  ],
});
const plainLab = await seedBenchLab(fake, 'codex-lab-upload-plain-', [
  { name: 'a', email: 'upload-a@example.com' },
]);
const zstdLab = await seedBenchLab(fake, 'codex-lab-upload-zstd-', [
  { name: 'a', email: 'upload-a@example.com' },
]);
const webSocketLab = await seedBenchLab(fake, 'codex-lab-upload-websocket-', [
  { name: 'a', email: 'upload-a@example.com' },
]);
enableResponsesWebSocket(fake);
// Each variant names its transport settings, so a change of default does not change what it measures.
const plainRouter = await startRouter({
  ...plainLab.env,
  CODEX_LAB_UPSTREAM_ZSTD: 'off',
  CODEX_LAB_UPSTREAM_WEBSOCKET: 'off',
});
const zstdRouter = await startRouter({
  ...zstdLab.env,
  CODEX_LAB_UPSTREAM_ZSTD: 'on',
  CODEX_LAB_UPSTREAM_WEBSOCKET: 'off',
});
const webSocketRouter = await startRouter({
  ...webSocketLab.env,
  CODEX_LAB_UPSTREAM_WEBSOCKET: 'on',
});
const variants = [
  { name: 'router, zstd off', url: plainRouter.url, token: await plainLab.routerToken() },
  { name: 'router, zstd on', url: zstdRouter.url, token: await zstdLab.routerToken() },
  {
    name: 'router, WebSocket on',
    url: webSocketRouter.url,
    token: await webSocketLab.routerToken(),
  },
];

/** Runs one session's turns on `variant`; yields per-turn upstream bytes and native frame bytes. */
function session(variant, id) {
  return playCodexLikeSession({
    id,
    turns,
    send: routerTurnSender({ url: variant.url, token: variant.token, id, fake }),
  });
}

const totals = {
  'router, zstd off': [],
  'router, zstd on': [],
  'router, WebSocket on': [],
  native: [],
  body: [],
};
try {
  for (let repetition = 0; repetition < repetitions; repetition += 1) {
    const order = repetition % 2 === 0 ? variants : [...variants].reverse();
    const runs = order.map((variant) => ({
      variant,
      steps: session(variant, `upload-${repetition}-${variant.name.replaceAll(/\W/g, '')}`),
      sum: 0,
      native: 0,
      plain: 0,
    }));
    // Turn by turn, alternating the routers.
    for (let turn = 0; turn < turns; turn += 1) {
      for (const run of runs) {
        const { value } = await run.steps.next();
        run.sum += value.received;
        run.native += value.native;
        run.plain += value.plain;
      }
    }
    for (const run of runs) totals[run.variant.name].push(run.sum);
    totals.native.push(runs[0].native);
    totals.body.push(runs[0].plain);
  }
} finally {
  await zstdRouter.close();
  await webSocketRouter.close();
  await plainRouter.close();
  await fake.close();
  await rm(plainLab.root, { recursive: true, force: true });
  await rm(zstdLab.root, { recursive: true, force: true });
  await rm(webSocketLab.root, { recursive: true, force: true });
}

const kb = (value) => (value / 1024).toFixed(1);
const range = (values, format) =>
  `${format(Math.min(...values))} / ${format(percentile(values, 50))} / ${format(Math.max(...values))}`;
const ratio = (left, right) => totals[left].map((value, index) => value / totals[right][index]);
const two = (value) => value.toFixed(2);
const lines = [
  `Measured ${new Date().toISOString().slice(0, 10)} with \`node bench/upload-bytes.mjs --repetitions ${repetitions} --turns ${turns}\`: ${repetitions} repetitions of a ${turns}-turn session (a Codex-like first request carrying ~${kb(Buffer.byteLength(JSON.stringify(codexToolsItem(createProse()))))} KB of tools as \`additional_tools\`, each turn adding a user message, a tool output, and the answer's reasoning and message), the three routers' sessions run turn by turn, interleaved; the fake ChatGPT counts the bytes it receives. min / median / max over the repetitions.`,
  '',
  '| upload over the session | KB |',
  '|---|---|',
  `| router, zstd off (the router before) | ${range(totals['router, zstd off'], kb)} |`,
  `| router, zstd on, WebSocket off (the HTTP path as shipped) | ${range(totals['router, zstd on'], kb)} |`,
  `| router, Responses over WebSocket upstream (\`CODEX_LAB_UPSTREAM_WEBSOCKET=on\`, frames uncompressed) | ${range(totals['router, WebSocket on'], kb)} |`,
  `| native Codex over Responses WebSocket, incremental (computed, frames uncompressed) | ${range(totals.native, kb)} |`,
  '',
  `- **zstd on / zstd off: ${range(ratio('router, zstd on', 'router, zstd off'), two)}** (target ≤ 0.4)`,
  `- zstd on / native WebSocket incremental: ${range(ratio('router, zstd on', 'native'), two)}`,
  `- **WebSocket on / native WebSocket incremental: ${range(ratio('router, WebSocket on', 'native'), two)}** (target ≤ 1.2)`,
  `- **WebSocket on / zstd off: ${range(ratio('router, WebSocket on', 'router, zstd off'), two)}** (target ≤ 0.4)`,
  '',
];
const section = lines.join('\n');
console.log(section);
if (writeResults) {
  const file = join(repoRoot, 'docs/benchmarks.md');
  await writeFile(
    file,
    updateSection(await readFile(file, 'utf8'), 'Upload bytes per session', section),
  );
  console.log('Updated docs/benchmarks.md');
}
