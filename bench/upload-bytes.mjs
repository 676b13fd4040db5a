// Upload bytes over a 20-turn Codex session: what reaches the upstream per turn through the router
// with zstd request bodies off (the router before), through the router with zstd on, through the
// router with the Responses-over-WebSocket upstream on (CODEX_LAB_UPSTREAM_WEBSOCKET), and what native Codex over Responses WebSocket would send for the same session (the
// first request whole, then a `response.create` frame with only the new items and
// `previous_response_id`; computed from the captured requests, frames uncompressed).
// Two more variants play the same session with the WebSocket upstream on and two profiles: the
// first profile hits its usage limit at turn `--fallback-turn` and the second serves the rest;
// in one of them the router is restarted before turn `--restart-turn` (a new `serve` process on
// the same home, which knows the session from its request journal but not who minted which
// reasoning blob), in the other it keeps running. Each repetition seeds them fresh accounts and
// homes, so every repetition starts with both profiles available.
// Each repetition runs the five sessions turn by turn, interleaved (the order reversed every other
// repetition); the fake ChatGPT counts the bytes it receives. Reported: totals and ratios,
// min / median / max over the repetitions, and the two-profile sessions turn by turn.
//
//   node bench/upload-bytes.mjs [--repetitions N] [--turns N] [--fallback-turn N]
//     [--restart-turn N] [--no-write]
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { startFakeChatGpt } from '../test/fakes/fake-chatgpt.ts';
import { enableResponsesWebSocket } from '../test/fakes/fake-responses-websocket.ts';
import {
  codexRequestHeaders,
  codexToolsItem,
  createProse,
  playCodexLikeSession,
  routerTurnSender,
} from '../test/helpers/codex-like-session.ts';
import { percentile, updateSection } from './helpers/measure.mjs';
import { benchOptions, positiveCount } from './helpers/options.ts';
import { seedBenchLab, startRouter } from './helpers/router.mjs';

const options = benchOptions(
  'node bench/upload-bytes.mjs [--repetitions N] [--turns N] [--fallback-turn N] [--restart-turn N] [--no-write]',
  { repetitions: 5, turns: 20, 'fallback-turn': null, 'restart-turn': null, 'no-write': false },
);
const repetitions = options.repetitions;
const turns = options.turns;
// By default the fallback comes a third and the restart two thirds into the session.
const fallbackTurn =
  options['fallback-turn'] === null
    ? Math.floor(turns / 3)
    : positiveCount('fallback-turn', options['fallback-turn']);
const restartTurn =
  options['restart-turn'] === null
    ? Math.floor((2 * turns) / 3)
    : positiveCount('restart-turn', options['restart-turn']);
const writeResults = !options['no-write'];
if (!(fallbackTurn > 0 && restartTurn > fallbackTurn && restartTurn < turns)) {
  process.stderr.write(
    '--fallback-turn and --restart-turn must satisfy 0 < fallback < restart < turns.\n',
  );
  process.exit(2);
}
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
const side = enableResponsesWebSocket(fake);
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

// The router's settings for the two-profile sessions: the WebSocket upstream and zstd as shipped.
const twoProfileSettings = { CODEX_LAB_UPSTREAM_WEBSOCKET: 'on', CODEX_LAB_UPSTREAM_ZSTD: 'on' };
const reply = 'I looked at the files and changed the handler as asked; the tests pass now.';

/**
 * A two-profile variant for one repetition: fresh accounts at the fake, a home with profiles `a`
 * (active) and `b`, and its router. `restart` makes `before(turn)` replace the router with a new
 * process on the same home before `restartTurn`.
 */
async function twoProfileVariant(name, repetition, restart) {
  const tag = `${restart ? 'restart' : 'steady'}-${repetition}`;
  const emails = { a: `upload-${tag}-a@example.com`, b: `upload-${tag}-b@example.com` };
  for (const email of Object.values(emails)) fake.addAccount({ email, usagePerTurn: 0, reply });
  const lab = await seedBenchLab(
    fake,
    `codex-lab-upload-${tag}-`,
    [
      { name: 'a', email: emails.a },
      { name: 'b', email: emails.b },
    ],
    { active: 'a' },
  );
  const env = { ...lab.env, ...twoProfileSettings };
  const variant = {
    name,
    lab,
    router: await startRouter(env),
    token: await lab.routerToken(),
    async before(turn) {
      if (turn === fallbackTurn) {
        fake.account(emails.a).stickyFailure = { kind: 'usage_limit', resetsInSeconds: 3600 };
      }
      if (restart && turn === restartTurn) {
        // SIGTERM, as a user's stop or a reboot would: the router writes its journal and exits.
        await variant.router.close();
        variant.router = await startRouter(env);
        variant.token = await lab.routerToken();
      }
    },
    async close() {
      await variant.router.close();
      await rm(lab.root, { recursive: true, force: true });
    },
  };
  return variant;
}

/**
 * A `send` for `playCodexLikeSession` that posts each turn to the variant's current router (a
 * restart changes its URL) with Codex's headers, and notes what the upstream received for it:
 * bytes, requests over each transport, refusals of ciphertext, and the profile that answered.
 */
function liveTurnSender(variant, id, notes) {
  let turn = 0;
  return async (body) => {
    const requestsBefore = fake.requests.length;
    const framesBefore = side.turns.length;
    const response = await fetch(`${variant.router.url}/backend-api/codex/responses`, {
      method: 'POST',
      headers: codexRequestHeaders({ session: id, turn: turn++, token: variant.token }),
      body,
    });
    const sse = await response.text();
    if (response.status !== 200) throw new Error(`a turn answered ${response.status}: ${sse}`);
    const upstream = fake.requests
      .slice(requestsBefore)
      .filter((recorded) => recorded.path === '/backend-api/codex/responses');
    const received = upstream.reduce((sum, recorded) => sum + recorded.bytes, 0);
    notes.push({
      received,
      frames: upstream.filter((recorded) => recorded.transport === 'websocket').length,
      http: upstream.filter((recorded) => recorded.transport !== 'websocket').length,
      refused: side.turns
        .slice(framesBefore)
        .filter((frame) => frame.error === 'invalid_encrypted_content').length,
      profile: response.headers.get('x-codex-lab-profile'),
    });
    return { sse, received };
  };
}

const totals = {
  'router, zstd off': [],
  'router, zstd on': [],
  'router, WebSocket on': [],
  native: [],
  body: [],
};
const twoProfileNames = ['two profiles, steady', 'two profiles, restart'];
/** Per repetition and two-profile variant: each turn's notes, native bytes and whole body. */
const perTurn = { 'two profiles, steady': [], 'two profiles, restart': [] };
const twoProfileVariants = [];
try {
  for (let repetition = 0; repetition < repetitions; repetition += 1) {
    const steady = await twoProfileVariant('two profiles, steady', repetition, false);
    twoProfileVariants.push(steady);
    const restarted = await twoProfileVariant('two profiles, restart', repetition, true);
    twoProfileVariants.push(restarted);
    const all = [...variants, steady, restarted];
    const order = repetition % 2 === 0 ? all : [...all].reverse();
    const runs = order.map((variant) => {
      const id = `upload-${repetition}-${variant.name.replaceAll(/\W/g, '')}`;
      const notes = [];
      const steps = variant.before
        ? playCodexLikeSession({ id, turns, send: liveTurnSender(variant, id, notes) })
        : session(variant, id);
      return { variant, steps, notes, sum: 0, native: 0, plain: 0, turns: [] };
    });
    // Turn by turn, alternating the routers.
    for (let turn = 0; turn < turns; turn += 1) {
      for (const run of runs) {
        await run.variant.before?.(turn);
        const { value } = await run.steps.next();
        run.sum += value.received;
        run.native += value.native;
        run.plain += value.plain;
        run.turns.push({ ...value, ...run.notes[turn] });
      }
    }
    for (const run of runs) {
      if (run.variant.before) perTurn[run.variant.name].push(run.turns);
      else totals[run.variant.name].push(run.sum);
    }
    const single = runs.find((run) => !run.variant.before);
    totals.native.push(single.native);
    totals.body.push(single.plain);
    await steady.close();
    await restarted.close();
    twoProfileVariants.length = 0;
  }
} finally {
  for (const variant of twoProfileVariants) await variant.close();
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
  `Run with \`node bench/upload-bytes.mjs [--repetitions N] [--turns N] [--fallback-turn N] [--restart-turn N] [--no-write]\` (defaults 5 repetitions, 20 turns, the fallback a third and the restart two thirds into the session); it rewrites this section. Five variants play the same session, turn by turn, interleaved (the order reversed every other repetition): the router over HTTP with zstd off, with zstd on, with the Responses-over-WebSocket upstream on (one profile each, one router for the whole run), and two with the WebSocket upstream on and two profiles, one router kept and one restarted mid-session (below). Bytes are counted, not timed: the figures do not depend on the machine's load.`,
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} with \`node bench/upload-bytes.mjs --repetitions ${repetitions} --turns ${turns} --fallback-turn ${fallbackTurn} --restart-turn ${restartTurn}\`: ${repetitions} repetitions of a ${turns}-turn session (a Codex-like first request carrying ~${kb(Buffer.byteLength(JSON.stringify(codexToolsItem(createProse()))))} KB of tools as \`additional_tools\`, each turn adding a user message, a tool output, and the answer's reasoning and message), the five sessions run turn by turn, interleaved; the fake ChatGPT counts the bytes it receives. min / median / max over the repetitions.`,
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
  ...twoProfileLines(),
];
const section = lines.join('\n');
console.log(section);
const worst = Math.max(...afterRestartRatios());
if (worst > 1.2) {
  console.log(
    `Regression: the turns from the restart on cost up to ${two(worst)}x one full request then native incremental.`,
  );
}
if (writeResults) {
  const file = join(repoRoot, 'docs/benchmarks.md');
  await writeFile(
    file,
    await updateSection(await readFile(file, 'utf8'), 'Upload bytes per session', section),
  );
  console.log('Updated docs/benchmarks.md');
}

/** Per repetition: what the restarted session's turns from the restart on cost, against one full request then native incremental. */
function afterRestartRatios() {
  return perTurn['two profiles, restart'].map((session) => {
    const after = session.slice(restartTurn);
    const floor = after[0].plain + after.slice(1).reduce((sum, turn) => sum + turn.native, 0);
    return after.reduce((sum, turn) => sum + turn.received, 0) / floor;
  });
}

/** The two-profile variants' section: totals, ratios and the session turn by turn. */
function twoProfileLines() {
  const [steady, restart] = twoProfileNames.map((name) => perTurn[name]);
  const sum = (session, field, from = 0, to = turns) =>
    session.slice(from, to).reduce((total, turn) => total + turn[field], 0);
  const each = (sessions, measure) => sessions.map(measure);
  const divide = (left, right) => left.map((value, index) => value / right[index]);
  const restartTotals = each(restart, (session) => sum(session, 'received'));
  const steadyTotals = each(steady, (session) => sum(session, 'received'));
  const nativeTotals = each(restart, (session) => sum(session, 'native'));
  const afterRestart = each(restart, (session) => sum(session, 'received', restartTurn + 1));
  const afterSteady = each(steady, (session) => sum(session, 'received', restartTurn + 1));
  const afterNative = each(restart, (session) => sum(session, 'native', restartTurn + 1));
  const median = (values) => percentile(values, 50);
  const count = (sessions, turn, field) => median(sessions.map((session) => session[turn][field]));
  const cell = (sessions, turn) => {
    const requests = `${count(sessions, turn, 'frames')} WS + ${count(sessions, turn, 'http')} HTTP`;
    const refused = count(sessions, turn, 'refused');
    return `${kb(median(sessions.map((session) => session[turn].received)))} (${requests}${refused ? `, ${refused} refused` : ''})`;
  };
  // What the first two turns after the restart sent, in the median repetition's terms.
  const restartCell = (turn) =>
    `${count(restart, turn, 'frames')} WebSocket frame(s), ${count(restart, turn, 'refused')} of them refused, and ${count(restart, turn, 'http')} HTTP request(s), ${kb(median(restart.map((session) => session[turn].received)))} KB against a whole body of ${kb(median(restart.map((session) => session[turn].plain)))} KB`;
  const rows = [];
  for (let turn = 0; turn < turns; turn += 1) {
    const event =
      turn === fallbackTurn
        ? ' (a limited: b takes over)'
        : turn === restartTurn
          ? ' (restart before it)'
          : '';
    const profiles = [...new Set(restart.map((session) => session[turn].profile))].join(', ');
    rows.push(
      `| ${turn}${event} | ${profiles} | ${cell(steady, turn)} | ${cell(restart, turn)} | ${kb(median(restart.map((session) => session[turn].native)))} | ${kb(median(restart.map((session) => session[turn].plain)))} |`,
    );
  }
  return [
    `### Two profiles and a router restart`,
    '',
    `The same session with the WebSocket upstream and zstd on, two profiles: \`a\` hits its usage limit at turn ${fallbackTurn} and \`b\` serves the rest. In "restart" the router is stopped (SIGTERM) before turn ${restartTurn} and a new \`serve\` process starts on the same home; "steady" keeps one router. Fresh accounts and homes each repetition, interleaved with the three routers above. Native is computed from each session's captured requests, as above.`,
    '',
    '| upload over the session | KB |',
    '|---|---|',
    `| two profiles, one router (steady) | ${range(steadyTotals, kb)} |`,
    `| two profiles, router restarted | ${range(restartTotals, kb)} |`,
    `| native Codex over Responses WebSocket, incremental (computed, one account) | ${range(nativeTotals, kb)} |`,
    '',
    `- **restart / steady: ${range(divide(restartTotals, steadyTotals), two)}**`,
    `- restart / native WebSocket incremental: ${range(divide(restartTotals, nativeTotals), two)}`,
    `- steady / native WebSocket incremental: ${range(divide(steadyTotals, nativeTotals), two)}`,
    `- **turns ${restartTurn}–${turns - 1} after the restart / (turn ${restartTurn}'s whole body + native incremental for the rest): ${range(afterRestartRatios(), two)}** (≈ 1 when the first turn after a restart goes once in full and the rest incremental)`,
    `- turns ${restartTurn + 1}–${turns - 1}, restart / steady: ${range(divide(afterRestart, afterSteady), two)}; restart / native: ${range(divide(afterRestart, afterNative), two)}`,
    '',
    `After the restart, turn ${restartTurn} sent ${restartCell(restartTurn)}; turn ${restartTurn + 1} sent ${restartCell(restartTurn + 1)}.`,
    '',
    'Turn by turn, KB the upstream received (median over the repetitions; requests as WebSocket frames and HTTP bodies, refusals of `invalid_encrypted_content`):',
    '',
    '| turn | served by (restart) | steady | restart | native | whole body |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ];
}
