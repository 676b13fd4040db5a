/**
 * `codex-lab codex [--profile NAME] [-- ARGS…]` runs the installed Codex through the router with
 * `--no-daemon`, `-c` overrides and environment variables only (no edits to Codex's files), and
 * `codex-lab codex-config` prints the block for using the router permanently (or, with `--write`,
 * puts it into Codex's config.toml). Both register the same provider, whose token command is
 * `codex-lab token`: no token is in Codex's environment.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { isatty } from 'node:tty';
import { defaultHome } from '../../config.ts';
import { ensurePrivateDirectory, readTextFile } from '../../home/files.ts';
import { LabError } from '../../errors.ts';
import { loopbackBypass } from '../../net/proxy.ts';
import { isAutoName } from '../../profiles/names.ts';
import {
  codexConfigBlock,
  codexEnvironment,
  codexOverrideArgs,
  profileEnvVar,
} from '../../proxy/codex-config.ts';
import {
  annotateCodexConfigBlock,
  codexConfigSyntaxProblem,
} from '../../proxy/codex-config-file.ts';
import type { PinSource } from '../../format.ts';
import { checkCodexHome, codexConfigFileName, codexConfigFilePath } from '../../home/codex-home.ts';
import { describeRun, runHasNews } from '../../service/quota-text.ts';
import { readLiveRouterInfo, routerUrl } from '../../service/router-info.ts';
import { optionalNameArgument } from '../arguments.ts';
import { writeLine, type CliContext } from '../context.ts';
import { systemClock } from '../../ports.ts';
import { codexStop, defaultCodexStopGraceMs } from '../codex-stop.ts';
import { signalExitCode, stopSignals } from '../critical-exit.ts';
import { precheckCodexProfile } from '../prechecks.ts';
import {
  codexLabLauncher,
  findOnPath,
  isExecutableFile,
  programCommand,
  type ProgramCommand,
} from '../path-search.ts';

/**
 * The router's URL: the address and port a live router recorded in `state/router.json` (unless
 * `CODEX_LAB_PORT` names another port), else 127.0.0.1 on `CODEX_LAB_PORT` or 1456. Always on
 * loopback.
 */
export async function findRouterUrl(context: CliContext): Promise<string> {
  const live = await readLiveRouterInfo(context.paths);
  // The live router's own address (it may listen on ::1), unless CODEX_LAB_PORT names another.
  if (live && (!context.config.portFromEnvironment || live.port === context.config.port)) {
    return routerUrl(live);
  }
  return `http://127.0.0.1:${context.config.port}`;
}

/**
 * How to start Codex without a shell (`programCommand`): the binary `findCodexBinary` finds, or
 * on Windows the script of npm's `codex.cmd` with this Node. A batch file that is no npm shim is
 * refused in one sentence, before any router is started for it.
 */
export function findCodexCommand(
  explicit: string | null,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): ProgramCommand {
  const binary = findCodexBinary(explicit, env, platform);
  const command = programCommand(binary, platform);
  if (command !== null) return command;
  throw new LabError(
    'codex_not_found',
    `Cannot start ${binary}: it is a batch file, which needs a shell that would re-read Codex's arguments, and not npm's shim for Codex's script; set CODEX_LAB_CODEX_BIN to Codex's codex.exe.`,
  );
}

/** Finds the Codex binary: `explicit` (`CODEX_LAB_CODEX_BIN`), else `codex` on `PATH`. */
export function findCodexBinary(
  explicit: string | null,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): string {
  if (explicit) {
    if (isExecutableFile(explicit)) return explicit;
    throw new LabError(
      'codex_not_found',
      `CODEX_LAB_CODEX_BIN points at ${explicit}, which is not an executable file: fix or unset it.`,
    );
  }
  const found = findOnPath('codex', env, platform);
  if (found !== null) return found;
  throw new LabError(
    'codex_not_found',
    'Could not find codex on PATH: install it (npm install -g @openai/codex) or set CODEX_LAB_CODEX_BIN to its path.',
  );
}

/** Codex's root options that take a value (`-m MODEL`), so the word after them is no subcommand. */
const codexValueOptions = new Set([
  '-c',
  '--config',
  '--enable',
  '--disable',
  '--remote',
  '--remote-auth-token-env',
  '-i',
  '--image',
  '-m',
  '--model',
  '--local-provider',
  '-p',
  '--profile',
  '-s',
  '--sandbox',
  '-C',
  '--cd',
  '--add-dir',
  '-a',
  '--ask-for-approval',
]);

/**
 * Codex's arguments for one `codex-lab codex` run: the user's, after `--no-daemon` and the
 * overrides (root options, which apply to every subcommand).
 *
 * `--no-daemon` runs Codex in its own process rather than through its shared background server:
 * the overrides need that (Codex falls back to it by itself, with a lasting "Running without the
 * shared background server" warning), and the run's headers come from this Codex's environment.
 * Left out where Codex refuses it: with `--remote` (another server) and for `remote-control`.
 * `queue` hands a message to the server that runs the thread, and Codex refuses both overrides
 * ("cannot queue through an embedded app server while a local app-server daemon is running") and
 * `--no-daemon` there, so it is passed on as the user gave it.
 */
export function codexRunArguments(overrides: string[], args: string[]): string[] {
  let subcommand: string | undefined;
  let remote = false;
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    if (arg === '--remote' || arg.startsWith('--remote=')) remote = true;
    if (arg === '--') break;
    if (codexValueOptions.has(arg)) {
      index += 1;
      continue;
    }
    if (!arg.startsWith('-')) {
      subcommand = arg;
      break;
    }
  }
  if (subcommand === 'queue') return args;
  const embedded = !remote && subcommand !== 'remote-control' && !args.includes('--no-daemon');
  return [...(embedded ? ['--no-daemon'] : []), ...overrides, ...args];
}

/**
 * Refuses (`corrupt_file`, naming the file, line and column) a `config.toml` in Codex's home that
 * is not valid TOML: Codex would refuse it at start, after a router was started for it. A file
 * that is missing or cannot be read is left for Codex to speak of.
 */
async function checkCodexConfigSyntax(env: NodeJS.ProcessEnv): Promise<void> {
  const path = codexConfigFilePath(env);
  // (A special file is read without waiting on it, and refused as Codex would meet it anyway.)
  const text = await readTextFile(path).catch(() => undefined);
  if (text === undefined) return;
  const problem = codexConfigSyntaxProblem(text);
  if (problem === null) return;
  throw new LabError(
    'corrupt_file',
    `${path} ${problem}, so Codex would refuse it and nothing was started: fix that line, then run codex-lab codex again.`,
    { details: { path } },
  );
}

/** Runs Codex through the router and resolves to its exit code. */
export async function runCodex(
  context: CliContext,
  args: string[],
  options: Record<string, unknown>,
): Promise<number> {
  // `--profile` wins over a shell's `CODEX_LAB_PROFILE` (README: the variable pins the Codex
  // process it reaches, this one included).
  const typed = optionalNameArgument(options['profile']) ?? context.config.profile ?? undefined;
  // `auto` is no pin (the router chooses), as `use auto` is; any other name is read by the rule
  // every command uses, and Codex sends the profile's real name.
  let profile: string | undefined;
  // Where the pin came from, known here only: every line about it names that one way out.
  const source: PinSource = typeof options['profile'] === 'string' ? 'flag' : 'environment';
  if (typed !== undefined && !isAutoName(typed)) {
    const checked = await precheckCodexProfile(context, typed, source, Date.now()).catch(
      (error: unknown) => {
        // A name left in the shell is not one the user just typed: say where it came from, as
        // the setting it is (`invalid_config`, exit 1, as every malformed CODEX_LAB_* variable).
        if (
          source === 'environment' &&
          error instanceof LabError &&
          error.code === 'profile_not_found'
        ) {
          throw new LabError(
            'invalid_config',
            `CODEX_LAB_PROFILE is set to ${JSON.stringify(typed)}, but there is no such profile: unset it, set it to a profile from codex-lab list, or pass --profile.`,
          );
        }
        throw error;
      },
    );
    profile = checked.name;
    for (const line of checked.warnings) writeLine(context.stderr, `codex-lab: ${line}`);
  }
  const codex = findCodexCommand(context.config.codexBin, context.env);
  const binary = codex.program;
  // Everything Codex would refuse that can be checked cheaply is checked before a router starts:
  // a router started for a Codex bound to fail would be left running for nothing.
  const codexHomeChecked = checkCodexHome(context.env);
  if (!codexHomeChecked.ok) throw new LabError(codexHomeChecked.code, codexHomeChecked.message);
  await checkCodexConfigSyntax(context.env);
  // The router for this home, started in the background when none runs (said once on stderr),
  // so Codex never waits on a router that is not there.
  const { ensureRouterOnPort } = await import('./router.ts');
  const router = await ensureRouterOnPort(context);
  const routerUrl = router.url;
  // Kept in this process only, for the line after Codex exits: Codex gets its bearer from the
  // token command, since every command the model runs inherits Codex's environment.
  const routerToken = router.token;
  // The token command is this very program (same Node, same script, same version), with this
  // home and port when they are not the defaults.
  const launcher = codexLabLauncher(context.env, process.argv[1], { sameProgram: true });
  const home = context.config.home === defaultHome() ? null : context.config.home;
  const codexArgs = codexRunArguments(codexOverrideArgs({ routerUrl, launcher, home }), args);
  // Codex sends this id with every request (`x-codex-lab-run`), so we can ask the router
  // afterwards whether any turn of this run moved or was refused.
  const runId = randomUUID();
  const env: NodeJS.ProcessEnv = {
    ...context.env,
    // Behind a proxy, Codex must still reach the router on loopback directly.
    ...loopbackBypass(context.env),
    ...codexEnvironment({ profile, runId }),
  };
  if (profile === undefined) delete env[profileEnvVar];

  const inherit = context.stdout === process.stdout && context.stderr === process.stderr;
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(codex.command, [...codex.args, ...codexArgs], {
      env,
      stdio: inherit ? 'inherit' : ['inherit', 'pipe', 'pipe'],
    });
  } catch (error) {
    // Node refuses some programs before starting them (EINVAL for a Windows batch file): the
    // same sentence as a program that fails to start, never a stack trace.
    throw new LabError(
      'codex_not_found',
      `Could not start ${binary}: ${(error as Error).message}.`,
      {
        cause: error,
      },
    );
  }
  if (!inherit) {
    child.stdout?.pipe(context.stdout, { end: false });
    child.stderr?.pipe(context.stderr, { end: false });
  }
  // Codex decides how it ends; this process stays until it has gone (never an orphan), and then
  // exits with the code of the first stop signal it got (130 after Ctrl-C), as a shell expects.
  // In a terminal, Ctrl-C reaches the whole foreground process group, Codex included: passing
  // SIGINT on too would give Codex a second one. Anywhere else (a script, a supervisor sending
  // SIGINT to this pid), only this process gets it, so it is passed on. SIGTERM and SIGHUP are
  // always passed on (a closed terminal, `kill PID`). Any of the three streams on a terminal
  // counts: `echo task | codex-lab codex exec -` has its stdin piped but runs in the terminal.
  // A Codex that ignores it is killed at a second signal or after the grace period (codex-stop).
  const stop = codexStop({
    child,
    clock: systemClock,
    graceMs: context.config.codexStopGraceMs ?? defaultCodexStopGraceMs,
    interactive: isatty(0) || isatty(1) || isatty(2),
    say: (line) => writeLine(context.stderr, line),
  });
  // Gone once it exits, though its output may still flow (a grandchild holding the pipes): a
  // later signal then kills nothing and says nothing.
  child.once('exit', () => stop.exited());
  const listeners = stopSignals.map((signal) => {
    const listener = (): void => stop.signalled(signal);
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  let exitCode: number;
  try {
    exitCode = await new Promise<number>((resolve, reject) => {
      child.once('error', (error) => {
        reject(
          new LabError('codex_not_found', `Could not start ${binary}: ${error.message}.`, {
            cause: error,
          }),
        );
      });
      child.once('close', (code, signal) => {
        resolve(code ?? (signal ? 128 + signalNumber(signal) : 1));
      });
    });
  } finally {
    stop.exited();
    for (const [signal, listener] of listeners) process.off(signal, listener);
  }
  const runPin = profile === undefined ? undefined : { profile, source };
  const line = await describeThisRun(routerUrl, routerToken, runId, runPin).catch(() => null);
  if (line) writeLine(context.stderr, `codex-lab: ${line}`);
  return stop.stoppedBy === null ? exitCode : signalExitCode(stop.stoppedBy);
}

/**
 * Asks the router which of this run's turns moved or were refused; null when none did or the
 * router cannot tell (then nothing is printed: the line is a courtesy, never an error). Asked
 * through `RemoteLab`, the one client every command talks to the router with.
 */
async function describeThisRun(
  routerUrl: string,
  routerToken: string,
  runId: string,
  runPin: { profile: string; source: PinSource } | undefined,
): Promise<string | null> {
  const { RemoteLab } = await import('../../service/remote-lab.ts');
  const lab = new RemoteLab({ url: routerUrl, token: routerToken });
  // Codex has exited: the user waits at most this long for a line they may do without.
  const timeoutMs = 3000;
  const requests = await lab.getRequests({ runId }, { timeoutMs });
  if (!runHasNews(requests)) return null;
  const { profiles } = await lab.getState({ timeoutMs });
  return describeRun(requests, profiles, {
    now: Date.now(),
    ...(runPin === undefined ? {} : { runPin }),
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGKILL: 9,
    SIGTERM: 15,
  };
  return numbers[signal] ?? 0;
}

/**
 * Prints the `config.toml` block for using the router permanently (with where its lines go), or
 * with `--write` / `--remove` puts it into Codex's config file or takes it out. Behind a proxy
 * whose `NO_PROXY` leaves out loopback, it also says on stderr the `NO_PROXY` Codex needs to reach
 * the router (its HTTP client would send even http://127.0.0.1 to the proxy).
 */
export async function runCodexConfig(
  context: CliContext,
  _args: string[],
  options: Record<string, unknown> = {},
): Promise<number> {
  if (options['write'] === true && options['remove'] === true) {
    throw new LabError(
      'invalid_argument',
      'Give --write or --remove, not both: --write sets Codex up, --remove undoes it.',
    );
  }
  const home = context.config.home === defaultHome() ? null : context.config.home;
  // The block names this home, and `token --home` refuses a folder that is not there (a typo in
  // the config): a home set before any account was added exists from here on.
  if (home !== null && options['remove'] !== true) await ensurePrivateDirectory(home);
  const block = codexConfigBlock({
    routerUrl: await findRouterUrl(context),
    launcher: codexLabLauncher(context.env),
    home,
    configFile: codexConfigFileName(context.env),
  });
  if (options['write'] === true || options['remove'] === true) {
    const { editCodexConfigFile } = await import('./codex-config-file.ts');
    const code = await editCodexConfigFile(
      context,
      options['write'] === true ? 'write' : 'remove',
      block,
    );
    if (options['remove'] === true) return code;
  } else {
    context.stdout.write(annotateCodexConfigBlock(block));
  }
  const bypass = loopbackBypass(context.env)['NO_PROXY'];
  if (bypass !== undefined && bypass !== (context.env['no_proxy'] || context.env['NO_PROXY'])) {
    writeLine(
      context.stderr,
      `codex-lab: behind a proxy, start Codex with NO_PROXY=${bypass} so it reaches the router on 127.0.0.1 (codex-lab codex does this itself).`,
    );
  }
  return 0;
}
