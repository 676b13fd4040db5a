// Fallback with a realistic history: what removing another account's reasoning ciphertext costs.
//
// Codex re-sends its whole history every turn, reasoning items included, and their
// `encrypted_content` is bound to the account that minted it (docs/routing.md, "Account-bound
// content"). Each round prepares four fresh sessions the same way — eight small turns through the
// router on profile `a` (so it learns who minted each reasoning blob), then one timed turn whose
// body is ~300 KB (those reasoning items plus tool outputs, as a long Codex session looks) — and
// times the last turn's first byte, the four variants interleaved in a rotating order:
//   - normal, plain:      the session stays on `a`; its history holds no ciphertext;
//   - normal, reasoning:  the session stays on `a`; its history holds a's ciphertext (forwarded
//                         byte for byte: no parse, no rewrite);
//   - fallback, plain:    `a` answers 429, `b` serves; nothing to remove;
//   - fallback, rewrite:  `a` answers 429, `b` serves; a's ciphertext is removed first.
// Reported: each variant's p50, and per round the rewrite's extra time (fallback rewrite − fallback
// plain) and the normal path's ratio (reasoning / plain), as min / median / max. Targets: the
// rewrite adds ≤ 2 ms at p50; the normal path with ciphertext costs what it costs without.
//
//   node bench/fallback-history.mjs [--rounds N] [--no-write]
import { readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { CiphertextOwners, stripCiphertext } from '../core/proxy/ciphertext.ts';
import { startFakeChatGpt } from '../test/fakes/fake-chatgpt.ts';
import { percentile, updateSection } from './helpers/measure.mjs';
import { benchOptions } from './helpers/options.ts';
import { runCli, seedBenchLab, startRouter } from './helpers/router.mjs';

const options = benchOptions('node bench/fallback-history.mjs [--rounds N] [--no-write]', {
  rounds: 30,
  'no-write': false,
});
const rounds = options.rounds;
const writeResults = !options['no-write'];
const repoRoot = resolve(import.meta.dirname, '..');
const warmTurns = 8;
const targetBytes = 300 * 1024;

const fake = await startFakeChatGpt({
  accounts: [
    { email: 'history-a@example.com', usagePerTurn: 0, reply: 'ok' },
    { email: 'history-b@example.com', usagePerTurn: 0, reply: 'ok' },
  ],
});
const { root, env, routerToken } = await seedBenchLab(fake, 'codex-lab-history-', [
  { name: 'a', email: 'history-a@example.com' },
  { name: 'b', email: 'history-b@example.com' },
]);
await runCli(env, ['use', 'a']);
const accountA = fake.account('history-a@example.com');

const dispatcher = new Agent({ connections: 4 });
const user = (text) => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
/** A tool call's output as Codex replays it (file listings and diffs make up most of a history). */
const toolOutput = (index, size) => ({
  type: 'function_call_output',
  call_id: `call_${index}`,
  output: `${'src/module.ts: export function handler(request) { return request.body; }\n'.repeat(Math.ceil(size / 72)).slice(0, size)}`,
});

function body(session, input, withCiphertext) {
  return JSON.stringify({
    model: 'gpt-6.2-sol',
    stream: true,
    store: false,
    ...(withCiphertext ? { include: ['reasoning.encrypted_content'] } : {}),
    reasoning: { effort: 'medium', context: 'all_turns' },
    prompt_cache_key: session,
    input,
  });
}

async function post(url, token, session, payload) {
  const begin = performance.now();
  const response = await request(url, {
    method: 'POST',
    dispatcher,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'session-id': session,
      // As Codex sends it: the router routes on headers and reads the body only to rewrite it.
      'x-codex-turn-metadata': JSON.stringify({ session_id: session, model: 'gpt-6.2-sol' }),
    },
    body: payload,
  });
  let firstByte = 0;
  let text = '';
  for await (const chunk of response.body) {
    if (firstByte === 0 && chunk.length > 0) firstByte = performance.now();
    text += chunk.toString('utf8');
  }
  return { ms: (firstByte || performance.now()) - begin, response, text };
}

/** Output items of an SSE answer, as Codex appends them to its history. */
function outputItems(sse) {
  return sse
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)))
    .filter((event) => event.type === 'response.output_item.done')
    .map((event) => event.item);
}

/** Prepares a session with `warmTurns` turns on `a`; returns the ~300 KB body of its next turn. */
async function prepare(url, token, session, withCiphertext) {
  const history = [];
  for (let turn = 0; turn < warmTurns; turn += 1) {
    history.push(user(`turn ${turn}`));
    const { text } = await post(url, token, session, body(session, history, withCiphertext));
    history.push(...outputItems(text));
  }
  // Tool outputs interleaved with the turns, filling the body up to ~300 KB.
  const base = Buffer.byteLength(body(session, [...history, user('next')], withCiphertext));
  const fill = Math.max(0, targetBytes - base);
  const pieces = Math.max(1, Math.floor(history.length / 2));
  const filled = [];
  for (let index = 0; index < history.length; index += 1) {
    filled.push(history[index]);
    if (index % 2 === 1) filled.push(toolOutput(index, Math.floor(fill / pieces) - 60));
  }
  filled.push(user('next'));
  return body(session, filled, withCiphertext);
}

const variants = ['normal-plain', 'normal-reasoning', 'fallback-plain', 'fallback-rewrite'];
const times = Object.fromEntries(variants.map((name) => [name, []]));
const sizes = Object.fromEntries(variants.map((name) => [name, 0]));
const rewriteExtra = [];
const normalRatio = [];
let wrongRoutes = 0;
let lastRewriteBody = '';
let router;
try {
  router = await startRouter(env);
  const token = await routerToken();
  const url = `${router.url}/backend-api/codex/responses`;
  for (let round = -3; round < rounds; round += 1) {
    // Negative rounds warm up connections, caches and the JIT; they are not counted.
    const order = variants.map((_, index) => variants[(index + round + 3) % variants.length]);
    const measured = {};
    for (const variant of order) {
      const session = `${variant}-${round}`;
      const withCiphertext = variant.endsWith('reasoning') || variant.endsWith('rewrite');
      const payload = await prepare(url, token, session, withCiphertext);
      sizes[variant] = Buffer.byteLength(payload);
      if (variant === 'fallback-rewrite') lastRewriteBody = payload;
      if (variant.startsWith('fallback')) {
        accountA.failures.push({ kind: 'usage_limit', resetsInSeconds: 0 });
      }
      const { ms, response } = await post(url, token, session, payload);
      const expected = variant.startsWith('fallback') ? 'b' : 'a';
      if (response.statusCode !== 200 || response.headers['x-codex-lab-profile'] !== expected) {
        measured[variant] = undefined;
        continue;
      }
      measured[variant] = ms;
    }
    if (round < 0) continue;
    if (variants.some((variant) => measured[variant] === undefined)) {
      wrongRoutes += 1;
      continue;
    }
    for (const variant of variants) times[variant].push(measured[variant]);
    rewriteExtra.push(measured['fallback-rewrite'] - measured['fallback-plain']);
    normalRatio.push(measured['normal-reasoning'] / measured['normal-plain']);
  }
} finally {
  await router?.close();
  await dispatcher.close();
  await fake.close();
  await rm(root, { recursive: true, force: true });
}

// The rewrite itself, in this process, on one of the measured 300 KB bodies: the end-to-end figures
// above carry the whole machine's noise, this one only the router's own work. Interleaved with a
// baseline that does what the normal path does (one ownership lookup, the bytes as they are).
const inProcess = { lookup: [], strip: [], parseStrip: [] };
{
  const payload = lastRewriteBody;
  const parsed = JSON.parse(payload);
  const owners = new CiphertextOwners();
  for (const item of parsed.input) {
    if (typeof item.encrypted_content === 'string') {
      owners.record('bench', 'a', item.encrypted_content);
    }
  }
  const keep = (blob) => owners.ownerOf('bench', blob) !== 'a';
  for (let rep = -50; rep < 500; rep += 1) {
    let begin = performance.now();
    owners.hasForeign('bench', 'a');
    const lookup = performance.now() - begin;
    begin = performance.now();
    Buffer.from(JSON.stringify(stripCiphertext(parsed, keep).body));
    const strip = performance.now() - begin;
    begin = performance.now();
    Buffer.from(JSON.stringify(stripCiphertext(JSON.parse(payload), keep).body));
    const parseStrip = performance.now() - begin;
    if (rep < 0) continue;
    inProcess.lookup.push(lookup);
    inProcess.strip.push(strip);
    inProcess.parseStrip.push(parseStrip);
  }
}

const format = (value, digits = 2) => (value === undefined ? 'n/a' : value.toFixed(digits));
const range = (values, digits = 2) =>
  `${format(Math.min(...values), digits)} / ${format(percentile(values, 50), digits)} / ${format(Math.max(...values), digits)}`;
const lines = [
  `Measured ${new Date().toISOString().slice(0, 10)} with \`node bench/fallback-history.mjs --rounds ${rounds}\` on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}: ${times['fallback-rewrite'].length} rounds, the four variants interleaved in a rotating order, one request at a time, the fake ChatGPT and the router on loopback (${wrongRoutes} rounds not routed as expected, left out). Each timed turn carries ${warmTurns} earlier turns (user messages, reasoning items, answers) and tool outputs: ${Math.round(sizes['fallback-rewrite'] / 1024)} KB with ciphertext, ${Math.round(sizes['fallback-plain'] / 1024)} KB without.`,
  '',
  '| variant (time to first byte) | p50 ms | p90 ms |',
  '|---|---|---|',
  ...variants.map(
    (variant) =>
      `| ${variant} | ${format(percentile(times[variant], 50))} | ${format(percentile(times[variant], 90))} |`,
  ),
  '',
  `- **rewrite's extra time (fallback rewrite − fallback plain), min / median / max: ${range(rewriteExtra)} ms** (target ≤ 2 ms at p50)`,
  `- normal path with ciphertext / without, min / median / max: ${range(normalRatio, 3)} (the bytes are forwarded unchanged; target ≈ 1)`,
  `- the router's own work, in one process on the same body (500 repetitions, min / median / max ms): the normal path's ownership lookup ${range(inProcess.lookup, 4)}; **parsing, removing the blobs and serialising (the rewrite path) ${range(inProcess.parseStrip, 3)}**; removing and serialising alone ${range(inProcess.strip, 3)}`,
  '- The end-to-end difference of two one-request-at-a-time timings carries the whole machine’s noise (the min / max above); the in-process figure is the router’s own added work, and it is what the 2 ms target is judged by when the machine is busy.',
  `- load average while measuring: ${loadavg()
    .map((value) => value.toFixed(1))
    .join(
      ', ',
    )} on ${cpus().length} cores (other work on the machine shows up in the end-to-end spread)`,
  '',
  'On a fallback the router checks whether the session holds ciphertext of another profile (one map lookup), and only then parses the body, builds a new `input` without those blobs and serialises it once; the normal path parses nothing (Codex sends the session and the model as headers), forwards the client’s bytes and only watches the answer stream for newly minted blobs.',
  '',
];
const section = lines.join('\n');
console.log(section);
if (writeResults) {
  const file = join(repoRoot, 'docs/benchmarks.md');
  await writeFile(
    file,
    await updateSection(await readFile(file, 'utf8'), 'Fallback with reasoning history', section),
  );
  console.log(`Updated ${file}`);
}
