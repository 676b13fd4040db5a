/**
 * Crash trials (issue 9, "Done when"): the real `codex-lab` command, as users run it, killed with
 * SIGKILL at random moments against the fake ChatGPT, in several homes at once ("lanes").
 *
 * Each trial runs one state-changing command — `rename` (the legacy `default` too), `remove`,
 * `use`, `pin`, `priming on|off`, `prime`, `usage --refresh`, `login` of a new account or of one
 * already signed in (a re-login) — either with no router running (the command works on the files)
 * or while a `codex-lab serve` in the same home answers Codex-like traffic (the command goes
 * through its control API). The victim is the command, or, in some router trials, the router
 * itself, killed right after a token refresh reached the issuer or at a random moment. Access
 * tokens live a few seconds past the refresh margin, so every command that reads quota and every
 * routed turn refreshes tokens all the time.
 *
 * After each trial nothing runs in the home; the next load (`codex-lab list --json`) replays what
 * the killed process left half done, and then:
 * - every JSON file parses;
 * - every profile's refresh token is the issuer's current one;
 * - no two profiles share a refresh token;
 * - no tokens sit in a folder the registry does not list.
 *
 * One case is not the client's to prevent: a SIGKILL of the process that sent a refresh, after
 * the issuer rotated the token and before the answer reached the disk (the new token exists only
 * on the wire). A spent token counts as that (`lostInFlight`) only when the killed process is the
 * one refreshing in that trial, the rotation's answer finished no earlier than a second before the
 * kill, and its new token is nowhere on disk; it is healed with a new sign-in. A new token that
 * reached the temporary file of the atomic write but not its rename is on disk: the next refresh
 * must put it in place (`adopted`). Every other spent or missing token is `lost`, which must
 * stay 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { watch } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TokenManager } from '../../core/auth/token-manager.ts';
import { silentLogger, systemClock } from '../../core/ports.ts';
import { HealthStore } from '../../core/state/health-store.ts';
import type { AuthDotJson } from '../../core/profiles/schema.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import {
  issueAuthDotJson,
  refreshLog,
  refreshTokenIsValid,
  setAccessTokenLifetime,
} from '../fakes/fake-issuer.ts';
import { authorizeLine, createTempHome, type TempHome } from './auth-harness.ts';
import { cliEntry, repoRoot } from './cli.ts';
import { codexTurnBody } from './lab-service.ts';

/** What a run of trials found. */
export interface CrashFigures {
  /** Kills that landed on a running process (the count asked for). */
  trials: number;
  /** Commands that finished before their kill (not counted as trials; checked all the same). */
  missed: number;
  /** Landed kills per victim. */
  victims: Record<string, number>;
  /** Landed kills per command. */
  commands: Record<string, number>;
  /** Token refreshes the issuers answered over the run. */
  refreshes: number;
  lost: number;
  lostInFlight: number;
  /** Rotated tokens a kill left in a temporary file, put in place by the next refresh. */
  adopted: number;
  unparsable: number;
  shared: number;
  hidden: number;
  seconds: number;
}

/** Options for `runCrashTrials`. */
export interface CrashTrialOptions {
  trials: number;
  /** Homes run side by side. */
  lanes: number;
  /** Seeds the choices (commands, names, victims); timing stays random. */
  seed?: number;
}

const emails = [
  'ann@example.com',
  'ben@example.com',
  'cat@example.com',
  'dan@example.com',
  'eve@example.com',
];
const names = ['alpha', 'beta', 'gamma', 'delta', 'work', 'home', 'spare'];
/** Access tokens live this long; the core refreshes 300 s before `exp`, so 3 s after minting. */
const accessTokenLifetimeSeconds = 303;
/** A rotation whose answer finished this long before the kill was the victim's to write. */
const writeGraceMs = 1_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `options.trials` landed kills over `options.lanes` homes; returns the figures and problems. */
export async function runCrashTrials(
  options: CrashTrialOptions,
): Promise<{ figures: CrashFigures; problems: string[] }> {
  const startedAt = Date.now();
  const figures: CrashFigures = {
    trials: 0,
    missed: 0,
    victims: {},
    commands: {},
    refreshes: 0,
    lost: 0,
    lostInFlight: 0,
    adopted: 0,
    unparsable: 0,
    shared: 0,
    hidden: 0,
    seconds: 0,
  };
  const problems: string[] = [];
  let claimed = 0;
  const lanes = await Promise.all(
    Array.from({ length: options.lanes }, (_, index) =>
      Lane.open((options.seed ?? 1) * 1_000 + index),
    ),
  );
  try {
    await Promise.all(
      lanes.map(async (lane) => {
        // Each lane claims trials from the shared count; a missed kill is not a trial.
        while (claimed < options.trials) {
          claimed += 1;
          const landed = await lane.trial(figures, problems);
          if (!landed) claimed -= 1;
        }
      }),
    );
    for (const lane of lanes) figures.refreshes += lane.refreshes();
  } finally {
    await Promise.all(lanes.map((lane) => lane.close()));
  }
  figures.seconds = Math.round((Date.now() - startedAt) / 1000);
  return { figures, problems };
}

/** A `codex-lab` child process. */
interface Running {
  child: ChildProcess;
  startedAt: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A command of one trial. */
interface Command {
  /** The command's name in the figures. */
  kind: string;
  args: string[];
  /** For `login`: the account the "browser" signs in as. */
  email?: string;
  /** True when the command refreshes tokens itself when no router runs. */
  refreshes: boolean;
}

/** One home, its fake ChatGPT, and the router running in it (if any). */
class Lane {
  readonly #fake: FakeChatGpt;
  readonly #home: TempHome;
  readonly #random: () => number;
  #serve: { process: Running; url: string; token: string } | null = null;
  /** How long each command usually takes (ms), learned from runs that finished: kills land inside. */
  readonly #durations = new Map<string, number>();
  #index = 0;

  private constructor(fake: FakeChatGpt, home: TempHome, seed: number) {
    this.#fake = fake;
    this.#home = home;
    let state = seed >>> 0 || 1;
    this.#random = () => {
      state = (state * 1_103_515_245 + 12_345) >>> 0;
      return state / 2 ** 32;
    };
  }

  /** A fresh fake and home with two signed-in profiles and a legacy single-account file. */
  static async open(seed: number): Promise<Lane> {
    const fake = await startFakeChatGpt({
      accounts: emails.map((email) => ({ email, usagePerTurn: 0 })),
    });
    setAccessTokenLifetime(fake, accessTokenLifetimeSeconds);
    const home = await createTempHome();
    const store = new ProfileStore({ paths: home.paths });
    await store.saveSignIn({
      auth: issueAuthDotJson(fake, emails[0]!) as AuthDotJson,
      requestedName: 'alpha',
    });
    await store.saveSignIn({
      auth: issueAuthDotJson(fake, emails[1]!) as AuthDotJson,
      requestedName: 'beta',
    });
    await writeFile(home.paths.legacyAuth, JSON.stringify(issueAuthDotJson(fake, emails[2]!)));
    return new Lane(fake, home, seed);
  }

  async close(): Promise<void> {
    await this.#stopServe('SIGKILL');
    await this.#fake.close();
    await this.#home.remove();
  }

  /** Refreshes this lane's issuer answered. */
  refreshes(): number {
    return refreshLog(this.#fake).length;
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)]!;
  }

  #env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (!key.startsWith('CODEX_LAB_')) env[key] = value;
    }
    return {
      ...env,
      CODEX_LAB_HOME: this.#home.home,
      CODEX_LAB_AUTH_ISSUER: this.#fake.issuerUrl,
      CODEX_LAB_CHATGPT_BASE_URL: this.#fake.backendUrl,
      CODEX_LAB_CALLBACK_PORT: '0',
      CODEX_LAB_LOG_LEVEL: 'warn',
    };
  }

  #spawn(args: string[]): Running {
    const child = spawn(process.execPath, [cliEntry, ...args], {
      cwd: repoRoot,
      env: this.#env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    return { child, startedAt: Date.now(), stdout: () => out, stderr: () => err, exited };
  }

  /** The profile names as the files list them (registry plus an unlisted legacy file). */
  async #profiles(): Promise<Array<{ name: string; email: string | null; legacy: boolean }>> {
    const store = new ProfileStore({ paths: this.#home.paths });
    const registry = await store.readRegistry();
    const listed = registry.profiles.map((p) => ({
      name: p.name,
      email: p.email,
      legacy: p.legacy === true,
    }));
    if (!listed.some((p) => p.name === 'default')) {
      try {
        const legacy = JSON.parse(
          await readFile(this.#home.paths.legacyAuth, 'utf8'),
        ) as AuthDotJson;
        listed.push({ name: 'default', email: emailOf(legacy), legacy: true });
      } catch {
        // No legacy file (or a half-written one the check below reports).
      }
    }
    return listed;
  }

  async #command(): Promise<Command> {
    const profiles = await this.#profiles();
    const taken = new Set(profiles.map((p) => p.email).filter((email) => email !== null));
    const fresh = emails.filter((email) => !taken.has(email));
    const kind =
      profiles.length < 2
        ? 'login'
        : this.#pick([
            'rename',
            'rename',
            'rename',
            'remove',
            'remove',
            'use',
            'pin',
            'priming',
            'prime',
            'prime',
            'usage-refresh',
            'usage-refresh',
            'login',
            'relogin',
            'relogin',
          ]);
    const name = this.#pick(profiles).name;
    switch (kind) {
      case 'rename': {
        const free = names.filter((candidate) => !profiles.some((p) => p.name === candidate));
        const from = profiles.some((p) => p.legacy) && this.#random() < 0.4 ? 'default' : name;
        return { kind, args: ['rename', from, this.#pick(free)], refreshes: false };
      }
      case 'remove':
        return { kind, args: ['remove', name], refreshes: false };
      case 'use':
        return { kind, args: ['use', this.#random() < 0.3 ? 'auto' : name], refreshes: false };
      case 'pin':
        return {
          kind,
          args: ['pin', name, '--repo', `/src/repo-${Math.floor(this.#random() * 4)}`],
          refreshes: false,
        };
      case 'priming':
        return {
          kind,
          args: ['priming', this.#random() < 0.5 ? 'on' : 'off', name],
          refreshes: false,
        };
      case 'prime':
        return { kind, args: ['prime', name], refreshes: true };
      case 'usage-refresh':
        return { kind, args: ['usage', '--refresh', '--json'], refreshes: true };
      case 'relogin': {
        const signedIn = emails.filter((email) => taken.has(email));
        if (signedIn.length > 0) {
          return {
            kind,
            args: ['login', '--no-browser'],
            email: this.#pick(signedIn),
            refreshes: false,
          };
        }
        return {
          kind: 'login',
          args: ['login', '--no-browser'],
          email: emails[0]!,
          refreshes: false,
        };
      }
      default: {
        const email = fresh.length > 0 ? this.#pick(fresh) : this.#pick(emails);
        return { kind: 'login', args: ['login', '--no-browser'], email, refreshes: false };
      }
    }
  }

  /** Starts `codex-lab serve` in this home; resolves once it listens. */
  async #startServe(): Promise<void> {
    const process = this.#spawn(['serve', '--port', '0']);
    const deadline = Date.now() + 30_000;
    let url: string | undefined;
    while (url === undefined) {
      url = /listening on (http:\/\/\S+)/.exec(process.stdout())?.[1];
      if (url !== undefined) break;
      if (process.child.exitCode !== null || Date.now() > deadline) {
        process.child.kill('SIGKILL');
        throw new Error(`serve did not start:\n${process.stdout()}\n${process.stderr()}`);
      }
      await sleep(10);
    }
    const token = (await readFile(this.#home.paths.routerToken, 'utf8')).trim();
    this.#serve = { process, url, token };
  }

  async #stopServe(signal: NodeJS.Signals): Promise<{ code: number | null } | null> {
    const serve = this.#serve;
    if (serve === null) return null;
    this.#serve = null;
    serve.process.child.kill(signal);
    const timer = setTimeout(() => serve.process.child.kill('SIGKILL'), 40_000);
    const exit = await serve.process.exited;
    clearTimeout(timer);
    return exit;
  }

  /** Codex-like turns from three clients, spread over the profiles by the profile header. */
  #traffic(profiles: string[]): () => Promise<void> {
    const serve = this.#serve!;
    const controller = new AbortController();
    let stopped = false;
    const clients = Array.from({ length: 3 }, async (_, client) => {
      for (let turn = 0; !stopped; turn += 1) {
        try {
          const answer = await fetch(`${serve.url}/backend-api/codex/responses`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${serve.token}`,
              'content-type': 'application/json',
              'x-codex-lab-profile': profiles[(client + turn) % profiles.length]!,
            },
            body: JSON.stringify(codexTurnBody({ session: `crash-${client}-${turn % 4}` })),
            signal: controller.signal,
          });
          await answer.text();
        } catch {
          await sleep(20);
        }
      }
    });
    return async () => {
      stopped = true;
      controller.abort();
      await Promise.all(clients);
    };
  }

  /** Runs one trial; true when its kill landed on a running process. */
  async trial(figures: CrashFigures, problems: string[]): Promise<boolean> {
    const index = (this.#index += 1);
    const withRouter = this.#random() < 0.5;
    const command = await this.#command();
    let stopTraffic: (() => Promise<void>) | null = null;
    if (withRouter) {
      await this.#startServe();
      stopTraffic = this.#traffic((await this.#profiles()).map((p) => p.name));
      // Let the router take some turns (and refresh) before the command arrives.
      await sleep(100 + this.#random() * 300);
    }
    const victim = withRouter && this.#random() < 0.4 ? 'router' : 'command';
    const run = this.#spawn(command.args);
    if (command.email !== undefined) {
      const email = command.email;
      void (async () => {
        while (run.child.exitCode === null && run.child.signalCode === null) {
          const url = run
            .stdout()
            .split('\n')
            .find((line) => authorizeLine.test(line.trim()));
          if (url !== undefined) {
            // The "browser": issuer → callback → success page; it dies with the callback.
            await fetch(`${url.trim()}&login_hint=${encodeURIComponent(email)}`)
              .then((answer) => answer.text())
              .catch(() => undefined);
            return;
          }
          await sleep(10);
        }
      })();
    }
    let killedAt: number;
    let landed: boolean;
    let refresherKilled: boolean;
    if (victim === 'router') {
      // Half the time right after a refresh reached the issuer (plus up to 40 ms), else at a
      // random moment.
      const seen = refreshLog(this.#fake).length;
      const afterRefresh = this.#random() < 0.5;
      const until = Date.now() + this.#random() * 1_500;
      while (Date.now() < until && (!afterRefresh || refreshLog(this.#fake).length === seen)) {
        await sleep(2);
      }
      await sleep(this.#random() * 40);
      const serve = this.#serve!;
      this.#serve = null;
      killedAt = Date.now();
      serve.process.child.kill('SIGKILL');
      landed = (await serve.process.exited).signal === 'SIGKILL';
      refresherKilled = landed;
      await stopTraffic!();
      // The command goes on without the router (on the files, or says the router went away).
      const timer = setTimeout(() => run.child.kill('SIGKILL'), 60_000);
      const exit = await run.exited;
      clearTimeout(timer);
      if (exit.signal === 'SIGKILL')
        problems.push(`${command.args.join(' ')} hung after the router died`);
    } else {
      const typical = this.#durations.get(command.kind) ?? 800;
      const timing = this.#random();
      if (!withRouter && timing < 0.5) {
        // Where it matters: at the command's n-th change under the home (a lock taken, a journal
        // record, a temp file, a moved folder, a rename into place) or, for a refresh, within a few
        // milliseconds of the issuer answering.
        const nth = 1 + Math.floor(this.#random() * 12);
        await this.#activity(run, nth, command.refreshes, typical * 1.5);
      } else {
        await Promise.race([run.exited, sleep(this.#random() * typical * 1.1)]);
      }
      killedAt = Date.now();
      run.child.kill('SIGKILL');
      const exit = await run.exited;
      landed = exit.signal === 'SIGKILL';
      // The window follows the command's real duration: it widens while kills land and shrinks
      // to what a finished run took, so kills fall anywhere in the run, not only at its start.
      this.#durations.set(
        command.kind,
        landed ? typical * 1.05 : Math.max(typical * 0.9, Date.now() - run.startedAt),
      );
      // A kill that missed (the command had finished) excuses nothing.
      refresherKilled = landed && !withRouter && command.refreshes;
      if (stopTraffic !== null) {
        // With the router alive throughout, the command went through its control API.
        if (run.stderr().includes('working on the files directly')) {
          problems.push(`${command.args.join(' ')} missed the running router: ${run.stderr()}`);
        }
        await stopTraffic();
        // A router stopped the ordinary way lands every refresh it started.
        const stopped = await this.#stopServe('SIGTERM');
        if (stopped?.code !== 0) problems.push(`serve exited ${stopped?.code} on SIGTERM`);
      }
    }
    if (landed) {
      figures.trials += 1;
      figures.victims[victim] = (figures.victims[victim] ?? 0) + 1;
      const key = `${command.kind}${withRouter ? ' (router)' : ''}`;
      figures.commands[key] = (figures.commands[key] ?? 0) + 1;
    } else {
      figures.missed += 1;
    }
    await this.#check(
      `trial ${index} (${command.args.join(' ')}, ${withRouter ? 'router' : 'files'}, killed ${victim})`,
      killedAt,
      refresherKilled,
      figures,
      problems,
    );
    return landed;
  }

  /**
   * Resolves at the `nth` change `run` makes under the home (or a few milliseconds after one of
   * its refreshes reaches the issuer), or when it exits or `timeoutMs` passes.
   */
  async #activity(run: Running, nth: number, refreshes: boolean, timeoutMs: number): Promise<void> {
    const seen = refreshLog(this.#fake).length;
    const watcher = watch(this.#home.home, { recursive: true });
    let changes = 0;
    let timer: NodeJS.Timeout | undefined;
    let poll: NodeJS.Timeout | undefined;
    await Promise.race([
      run.exited,
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      new Promise<void>((resolve) =>
        watcher.on('change', () => {
          changes += 1;
          if (changes >= nth) resolve();
        }),
      ),
      refreshes && this.#random() < 0.5
        ? new Promise<void>((resolve) => {
            poll = setInterval(() => {
              if (refreshLog(this.#fake).length > seen) setTimeout(resolve, this.#random() * 15);
            }, 2);
          })
        : new Promise(() => undefined),
    ]);
    clearTimeout(timer);
    clearInterval(poll);
    watcher.close();
  }

  /**
   * When the killed process had written its rotated tokens but not yet renamed them into place
   * (they sit in a temporary file beside auth.json), the next refresh, as the router runs it
   * after a 401, must put them in place rather than spend the dead token: true when it did.
   */
  async #adoptedOnNextRefresh(name: string, spent: string): Promise<boolean> {
    const store = new ProfileStore({ paths: this.#home.paths });
    const leftovers = await leftoverFiles(await store.authPath(name));
    if (leftovers.length === 0) return false;
    const auth = await store.readAuth(name);
    const manager = new TokenManager({
      paths: this.#home.paths,
      store,
      health: new HealthStore(this.#home.paths),
      issuer: this.#fake.issuerUrl,
      clock: systemClock,
      logger: silentLogger,
    });
    await manager.refreshAfterUnauthorized(name, auth.tokens!.access_token).catch(() => undefined);
    const now = (await store.readAuth(name)).tokens?.refresh_token;
    return now !== undefined && now !== spent && refreshTokenIsValid(this.#fake, now);
  }

  /** The invariants, after the next load replayed what the kill left half done. */
  async #check(
    label: string,
    killedAt: number,
    refresherKilled: boolean,
    figures: CrashFigures,
    problems: string[],
  ): Promise<void> {
    const bad = await unparsableFiles(this.#home.home);
    figures.unparsable += bad.length;
    if (bad.length > 0) problems.push(`${label}: unparsable ${bad.join(', ')}`);

    // The next load: a real command, which replays the journal.
    const next = this.#spawn(['list', '--json']);
    const listed = await next.exited;
    if (listed.code !== 0) problems.push(`${label}: list failed: ${next.stderr().trim()}`);

    const store = new ProfileStore({ paths: this.#home.paths });
    const profiles = await store.listProfiles();
    const held = new Map<string, string>();
    const auths = new Map<string, AuthDotJson | null>();
    for (const profile of profiles) {
      const auth = await store.readAuth(profile.name).catch(() => null);
      auths.set(profile.name, auth);
      if (auth?.tokens) held.set(auth.tokens.refresh_token, profile.name);
    }
    const log = refreshLog(this.#fake);
    const seen = new Map<string, string>();
    for (const profile of profiles) {
      const token = auths.get(profile.name)?.tokens?.refresh_token;
      if (token === undefined) {
        figures.lost += 1;
        problems.push(`${label}: ${profile.name} is listed without tokens`);
      } else {
        const other = seen.get(token);
        if (other !== undefined) {
          figures.shared += 1;
          problems.push(`${label}: ${profile.name} and ${other} share a refresh token`);
        }
        seen.set(token, profile.name);
        if (refreshTokenIsValid(this.#fake, token)) continue;
        const rotation = log.find((entry) => entry.presented === token);
        if (rotation !== undefined && (await this.#adoptedOnNextRefresh(profile.name, token))) {
          figures.adopted += 1;
          continue;
        }
        // A rotated token still in a temporary file is on disk, not on the wire: not forgiven.
        const leftovers = await leftoverFiles(await store.authPath(profile.name));
        const texts = await Promise.all(leftovers.map((file) => readFile(file, 'utf8')));
        const onTheWire =
          refresherKilled &&
          rotation !== undefined &&
          !held.has(rotation.issued) &&
          !texts.some((text) => text.includes(rotation.issued)) &&
          rotation.startedAt <= killedAt + writeGraceMs &&
          rotation.finishedAt >= killedAt - writeGraceMs;
        if (onTheWire) figures.lostInFlight += 1;
        else {
          figures.lost += 1;
          problems.push(
            `${label}: ${profile.name} holds a spent refresh token (${rotation ? `rotated ${killedAt - rotation.startedAt} ms before the kill, answer finished ${killedAt - rotation.finishedAt} ms before it` : 'never rotated'})`,
          );
        }
      }
      // Heal it as the user would, by signing in again, so later trials start clean.
      const email = profile.email ?? emailOf(auths.get(profile.name) ?? null);
      if (email !== null) {
        await store.writeAuth(profile.name, issueAuthDotJson(this.#fake, email) as AuthDotJson);
      }
    }
    const registered = new Set(profiles.filter((p) => !p.legacy).map((p) => p.name));
    for (const folder of await readdir(this.#home.paths.profilesDir).catch(() => [] as string[])) {
      const hasTokens = await stat(this.#home.paths.profileAuth(folder)).then(
        () => true,
        () => false,
      );
      if (hasTokens && !registered.has(folder)) {
        figures.hidden += 1;
        problems.push(`${label}: tokens in unlisted folder ${folder}`);
      }
    }
  }
}

/** The rotated tokens' file a writer killed before its rename left beside `authPath`, if any. */
async function leftoverFiles(authPath: string): Promise<string[]> {
  const folder = dirname(authPath);
  const prefix = `${basename(authPath)}.`;
  const files = await readdir(folder).catch(() => [] as string[]);
  return files
    .filter((file) => file.startsWith(prefix) && /^\d+$/.test(file.slice(prefix.length)))
    .map((file) => join(folder, file));
}

/** The email in an auth file's id_token, for healing a profile the registry lists without one. */
function emailOf(auth: AuthDotJson | null): string | null {
  const payload = auth?.tokens?.id_token.split('.')[1];
  if (payload === undefined) return null;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
    email?: string;
  };
  return claims.email ?? null;
}

/** Every JSON file under `home` (registry, auth files, state, journal) that does not parse. */
async function unparsableFiles(home: string): Promise<string[]> {
  const bad: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.json')) {
        try {
          JSON.parse(await readFile(path, 'utf8'));
        } catch {
          bad.push(path);
        }
      }
    }
  };
  await walk(home);
  return bad;
}
