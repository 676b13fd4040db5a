/**
 * Child process for the crash-safety test: runs random state-changing operations, as the CLI
 * commands and the router do them through the core, as fast as it can until it is killed —
 * rename (legacy default included), remove, use, pin, priming on/off, a token refresh (what
 * `usage --refresh`, `prime` and a serving router do on a 401), and a real browser sign-in (new
 * profile or re-login) against the fake issuer. Prints `ready` once loaded, starts on a `go` line
 * on stdin, and prints `op …` before each operation and `wrote <sha256 of refresh token>` after
 * each refreshed token reached the disk.
 *
 * Run as `node test/helpers/crash-worker.ts HOME ISSUER SEED EMAIL…` (Node strips the types).
 */
import { createHash } from 'node:crypto';
import { startLogin } from '../../core/auth/browser-login.ts';
import { TokenManager } from '../../core/auth/token-manager.ts';
import { labPaths } from '../../core/home/paths.ts';
import { silentLogger, systemClock } from '../../core/ports.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { HealthStore } from '../../core/state/health-store.ts';

const [homeArgument, issuerArgument, seedText, ...emails] = process.argv.slice(2);
if (!homeArgument || !issuerArgument || !seedText || emails.length === 0) {
  throw new Error('usage: crash-worker.ts HOME ISSUER SEED EMAIL…');
}
const home: string = homeArgument;
const issuer: string = issuerArgument;
const paths = labPaths(home);
const store = new ProfileStore({ paths, lock: { waitMs: 60_000 } });
const health = new HealthStore(paths);

/** A small deterministic generator, so a failing seed can be replayed. */
let seed = Number(seedText) >>> 0 || 1;
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) >>> 0;
  return seed / 2 ** 32;
}
function pick<T>(items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

const names = ['alpha', 'beta', 'gamma', 'delta', 'default', 'work', 'home'];
const digest = (text: string) => createHash('sha256').update(text).digest('hex');

const tokens = new TokenManager({
  paths,
  store: {
    readAuth: (name) => store.readAuth(name),
    writeAuth: async (name, auth) => {
      await store.writeAuth(name, auth);
      if (auth.tokens) process.stdout.write(`wrote ${digest(auth.tokens.refresh_token)}\n`);
    },
    saveRecoveredTokens: (name, auth, replaced) => store.saveRecoveredTokens(name, auth, replaced),
  },
  health,
  issuer,
  clock: systemClock,
  logger: silentLogger,
});

async function signIn(email: string): Promise<void> {
  const login = await startLogin({
    paths,
    issuer,
    clock: systemClock,
    logger: silentLogger,
    profiles: store,
    callbackPort: 0,
    requestedName: null,
    timeoutMs: 20_000,
    openBrowser: async (url) => {
      const response = await fetch(`${url}&login_hint=${encodeURIComponent(email)}`);
      await response.text();
    },
  });
  await login.done;
  await login.closed;
}

async function step(): Promise<void> {
  const profiles = (await store.listProfiles()).map((profile) => profile.name);
  const operation = pick([
    'rename',
    'rename',
    'remove',
    'use',
    'pin',
    'priming',
    'refresh',
    'refresh',
    'refresh',
    'login',
    'login',
  ]);
  if (profiles.length === 0 || operation === 'login') {
    const email = pick(emails);
    process.stdout.write(`op login ${email}\n`);
    await signIn(email);
    return;
  }
  const name = pick(profiles);
  process.stdout.write(`op ${operation} ${name}\n`);
  switch (operation) {
    case 'rename': {
      const free = names.filter((candidate) => !profiles.includes(candidate));
      if (free.length > 0) await store.rename(name, pick(free));
      return;
    }
    case 'remove':
      if (profiles.length > 1) await store.remove(name);
      return;
    case 'use':
      await store.setActive(random() < 0.3 ? 'auto' : name);
      return;
    case 'pin':
      await store.setPin('repo', `/src/repo-${Math.floor(random() * 4)}`, name);
      return;
    case 'priming':
      await store.setPriming(name, { enabled: random() < 0.5 });
      return;
    default: {
      const auth = await store.readAuth(name);
      await tokens.refreshAfterUnauthorized(name, auth.tokens!.access_token);
    }
  }
}

// Loaded and waiting: the parent starts the next worker while it checks the last one, and says
// "go" once the home is its to change.
process.stdout.write('ready\n');
await new Promise<void>((resolve) => {
  process.stdin.setEncoding('utf8').on('data', (chunk: string) => {
    if (chunk.includes('go')) resolve();
  });
});
process.stdout.write('started\n');
for (;;) {
  try {
    await step();
  } catch (error) {
    // Expected failures (a name taken meanwhile, a refresh the issuer refused) are part of the
    // run; anything else is a bug the parent should see.
    const code = (error as { code?: string }).code;
    if (code === undefined) {
      process.stderr.write(`worker bug: ${(error as Error).stack}\n`);
      process.exit(70);
    }
  }
}
