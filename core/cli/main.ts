/**
 * The `codex-lab` command. Command names, arguments and options are declared here (docs/design.md
 * section 3); each action's implementation is loaded only when it runs, so `codex-lab list` starts
 * fast and never loads the router or the HTTP client.
 */
import { Command, CommanderError, Option } from 'commander';
import {
  defaultCallbackPort,
  defaultChatGptBaseUrl,
  defaultIssuer,
  defaultRouterPort,
} from '../config.ts';
import { inputErrorCodes, isLabError, LabError, type ErrorCode } from '../errors.ts';
import { capitalize, withCliFix, withoutSentenceEnd } from '../format.ts';
import { proxyConfigured } from '../net/proxy.ts';
import { routerChangesInFlight, type RouterChange } from '../service/router-changes.ts';
import { labVersion } from '../version.ts';
import { createCliContext, writeLine, type CliContext } from './context.ts';
import { criticalExit, signalExitCode, stopSignals, type StopSignal } from './critical-exit.ts';
import { outputWidth } from './format.ts';

/** `--wide` of the table commands (`list`, `usage`, `log`): one wording for all three. */
const wideOption = [
  '--wide',
  'every column, full sentences and names, however wide the terminal',
] as const;

/** Exit code for an expected failure that is not the user's input (a file, the network, …). */
export const exitFailure = 1;
/** Exit code for input the user gave that is wrong: a malformed command line, a bad value or name. */
export const exitUsage = 2;

/**
 * The exit code of a command that failed with `code`, the one rule for every command: 2 when
 * what the user gave is wrong (`inputErrorCodes`, as for a command line commander refuses), 1
 * for every other failure.
 */
export function failureExitCode(code: ErrorCode): number {
  return inputErrorCodes.has(code) ? exitUsage : exitFailure;
}

/** The environment variables a user may set, shown after the top-level help. */
const environment: ReadonlyArray<readonly [string, string]> = [
  ['CODEX_LAB_HOME', 'all state (default ~/.codex-lab)'],
  ['CODEX_LAB_PORT', `router and control API port on 127.0.0.1 (default ${defaultRouterPort})`],
  [
    'CODEX_LAB_CALLBACK_PORT',
    `sign-in callback port (default ${defaultCallbackPort}; 0 picks a free one)`,
  ],
  ['CODEX_LAB_AUTH_ISSUER', `OAuth issuer (default ${defaultIssuer})`],
  ['CODEX_LAB_CHATGPT_BASE_URL', `upstream (default ${defaultChatGptBaseUrl})`],
  ['CODEX_LAB_PROFILE', 'pins the Codex that codex-lab codex runs (unless --profile is given)'],
  ['CODEX_LAB_CODEX_BIN', 'the codex binary "codex-lab codex" runs (default: codex on PATH)'],
  ['CODEX_LAB_LOG_LEVEL', 'debug, info, warn or error (logs go to stderr)'],
  [
    'HTTPS_PROXY, NO_PROXY',
    'reach OpenAI through a proxy, as Codex does (HTTP_PROXY, ALL_PROXY too)',
  ],
];

/**
 * The help's Environment section, laid out by commander's own help to the width the rest of the
 * help has: descriptions wrapped, and aligned with the commands' above.
 */
function environmentHelp(program: Command, width: number): string {
  const helper = program.createHelp();
  helper.prepareContext({ helpWidth: width });
  const termWidth = Math.max(
    helper.padWidth(program, helper),
    ...environment.map(([term]) => term.length),
  );
  const items = environment.map(([term, text]) => helper.formatItem(term, termWidth, text, helper));
  return ['', helper.styleTitle('Environment:'), ...items].join('\n');
}

/**
 * Commander's complaint about a command line (`error: unknown option '--limt'` and a
 * `(Did you mean --limit?)` line) as the CLI's other errors read: one `codex-lab:` sentence,
 * pointing at the help of the command that was mistyped.
 */
export function commandLineError(text: string, command: Command): string {
  const [first = '', ...more] = text
    .trim()
    .replace(/^error: /, '')
    .split('\n');
  // `too many arguments for 'use'. Expected 1 argument but got 2: a, b.`: the second part, and
  // a suggestion, go in brackets, so the whole stays one sentence.
  const [said = '', ...after] = withoutSentenceEnd(first).split('. ');
  const details = [...after, ...more.map((line) => line.replace(/^\((.*)\)$/, '$1'))]
    .map((part) => `${part.charAt(0).toLowerCase()}${part.slice(1)}`)
    .join('; ');
  const help = command.parent === null ? 'codex-lab --help' : `codex-lab ${command.name()} --help`;
  return `codex-lab: ${capitalize(said)}${details === '' ? '' : ` (${details})`}; run ${help} for usage.\n`;
}

/**
 * Help is wrapped to the width its stream reports (`outputWidth`, as tables are), down to
 * descriptions this narrow beside their terms; narrower, commander leaves them whole.
 */
const narrowestWrap = 16;

type Action = (
  context: CliContext,
  args: string[],
  options: Record<string, unknown>,
) => Promise<number>;
type Loader = () => Promise<Action>;

function action(context: CliContext, load: Loader, setExit: (code: number) => void) {
  return async (...received: unknown[]) => {
    // commander passes positional args, then the options object, then the command.
    const command = received[received.length - 1] as Command;
    const options = command.opts();
    const args = command.processedArgs.flatMap((value: unknown) =>
      value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)],
    );
    // A one-shot command parses each file once: zod's JIT (code generated per schema) costs more
    // than it saves. The long-running router keeps it.
    if (command.name() !== 'serve') (await import('zod')).config({ jitless: true });
    // Sign-in, usage, priming and the router reach OpenAI through the environment's proxy when
    // it names one. `token` (which Codex runs) only reads a file and asks the router on loopback.
    if (command.name() !== 'token' && proxyConfigured()) {
      (await import('../net/proxy-dispatchers.ts')).useProxyFromEnvironment();
    }
    const run = await load();
    const unguard = signalsHandledBy.has(command.name()) ? () => {} : guardSignals(context);
    try {
      setExit(await run(context, args, options));
    } catch (error) {
      throw withCommandHelp(error, command);
    } finally {
      unguard();
    }
  };
}

/**
 * A refusal that asks for the command's help (`nameArgument`'s) pointing at it, as commander's
 * own refusals do (`commandLineError`): `codex-lab rename --help`, not the program's.
 */
function withCommandHelp(error: unknown, command: Command): unknown {
  if (!isLabError(error) || error.details?.['commandHelp'] !== true) return error;
  return new LabError(
    error.code,
    `${withoutSentenceEnd(error.message)}; run codex-lab ${command.name()} --help for usage.`,
    { cause: error, details: { ...error.details, commandHelp: false } },
  );
}

/** Commands with their own SIGINT/SIGTERM handling (graceful stop, or forwarding to Codex). */
const signalsHandledBy = new Set(['serve', 'codex', 'login']);

/**
 * Until `unguard` is called, SIGINT, SIGTERM and SIGHUP end a one-shot command only after every
 * token refresh in flight has written its rotated tokens (a signal in that window would otherwise
 * lose the account's only valid refresh token); once one arrived, the next ones cannot cut that
 * wait short. Returns `unguard`.
 */
function guardSignals(context: CliContext): () => void {
  const exit = criticalExit(context.stderr);
  let first: StopSignal | null = null;
  const listeners = stopSignals.map((signal) => {
    const listener = () => {
      if (first !== null) return exit.signalled();
      first = signal;
      for (const change of routerChangesInFlight()) writeLine(context.stderr, stillApplied(change));
      void exit.settled().then(() => process.exit(signalExitCode(signal)));
    };
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    // A command that was signalled keeps its listeners until its wait ends in process.exit.
    if (first !== null) return;
    for (const [signal, listener] of listeners) process.off(signal, listener);
  };
}

/**
 * Said when a command is interrupted while a router holds a change it asked for: the router
 * applies it fully or not at all, answered or not, so the change is not to be taken for undone.
 */
function stillApplied(change: RouterChange): string {
  const check = change.operation === 'shutdown' ? 'codex-lab status' : 'codex-lab list';
  return `codex-lab: Stopped waiting; the router at ${change.url} still completes the ${change.what} (all or nothing): ${check} shows when it has.`;
}

/** Builds the command tree bound to `context`; `setExit` receives each action's exit code. */
export function buildProgram(context: CliContext, setExit: (code: number) => void): Command {
  const program: Command = new Command('codex-lab')
    .description('Use several ChatGPT/Codex accounts with the Codex CLI as if they were one.')
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
      getOutHelpWidth: () => outputWidth(context.stdout),
      getErrHelpWidth: () => outputWidth(context.stderr),
    })
    .configureHelp({ minWidthToWrap: narrowestWrap })
    .version(`codex-lab ${labVersion}`, '-V, --version', 'print the version')
    .exitOverride()
    .addHelpText('after', ({ error }) =>
      environmentHelp(program, outputWidth(error ? context.stderr : context.stdout)),
    );
  const bind = (load: Loader) => action(context, load, setExit);

  program
    .command('login')
    .description('Sign in to a ChatGPT account in the browser and save it as a profile.')
    .argument('[name]', 'profile name (default: from the email)')
    .option('--no-browser', 'print the sign-in URL without opening a browser')
    .option('--device', 'use the device-code flow instead of a local callback')
    .option('--keyring', 'keep the tokens in the OS keychain instead of a file')
    .option('--timeout <seconds>', 'give up after this many seconds', '600')
    .action(bind(async () => (await import('./commands/login.ts')).runLogin));

  program
    .command('list')
    .description('List profiles with email, plan, status, quota windows and the active marker.')
    .option('--json', 'print JSON')
    .option(...wideOption)
    .action(bind(async () => (await import('./commands/list.ts')).runList));

  program
    .command('rename')
    .description('Rename a profile.')
    .argument('<old>', 'current name')
    .argument('<new>', 'new name')
    .action(bind(async () => (await import('./commands/profiles.ts')).runRename));

  program
    .command('remove')
    .description('Remove a profile; other profiles are untouched.')
    .argument('<name>', 'profile name')
    .option('--revoke', 'also revoke its refresh token at the issuer (kept if that fails)')
    .option('--force', 'with --revoke: remove even when the issuer did not confirm the revoke')
    .action(bind(async () => (await import('./commands/profiles.ts')).runRemove));

  program
    .command('use')
    .description('Set the profile new unpinned sessions use, or "auto" to let the router choose.')
    .argument('<name>', 'profile name or "auto"')
    .action(bind(async () => (await import('./commands/profiles.ts')).runUse));

  program
    .command('pin')
    .description('Pin a Codex session or a repository to a profile.')
    .argument('<name>', 'profile name, or "auto" for no pin')
    .option('--session <id>', 'Codex session (thread) id')
    .option(
      '--repo <path>',
      "a git repository's own folder (the one holding .git), or a folder of repositories",
    )
    .option('--allow-fallback', 'fall over to another profile when this one is exhausted')
    .action(bind(async () => (await import('./commands/profiles.ts')).runPin));

  program
    .command('unpin')
    .description('Remove a session or repository pin.')
    .argument('[name]', "the profile the pin names (checked: another profile's pin is kept)")
    .option('--session <id>', 'Codex session (thread) id')
    .option('--repo <path>', 'repository path')
    .action(bind(async () => (await import('./commands/profiles.ts')).runUnpin));

  program
    .command('pins')
    .description('List the session and repository pins and the profile each names.')
    .option('--json', 'print JSON')
    .action(bind(async () => (await import('./commands/pins.ts')).runPins));

  program
    .command('usage')
    .description('Show the 5-hour and weekly quota windows per profile.')
    .argument('[name]', 'one profile')
    .option('--refresh', 'ask the usage endpoint now instead of showing the last snapshot')
    .option(
      '--pool',
      'the pool summary: headroom, next free time, forecast, who a new session gets',
    )
    .option('--json', 'print JSON')
    .option(...wideOption)
    .action(bind(async () => (await import('./commands/usage.ts')).runUsage));

  program
    .command('log')
    .description(
      'The per-request log: time, session, profile, route, model, status, timings, tokens.',
    )
    .option('--follow', 'keep printing new requests until stopped')
    .option('--json', 'print one JSON object per request (JSON Lines)')
    .option(...wideOption)
    .option('--session <id>', 'only this Codex session')
    .option('--profile <name>', 'only this profile')
    .action(bind(async () => (await import('./commands/log.ts')).runLog));

  program
    .command('serve')
    .description('Run the router, the control API, the priming timer and the web dashboard.')
    .addOption(
      new Option(
        '--port <port>',
        `port on 127.0.0.1 (default: CODEX_LAB_PORT or ${defaultRouterPort})`,
      ),
    )
    .option(
      '--host <address>',
      'address to bind (default 127.0.0.1; anything else exposes the router)',
    )
    .option('--log-json', 'log JSON lines even on a terminal (they are JSON in a pipe anyway)')
    .option(
      '--print-dashboard-url',
      'print the dashboard URL with the router token in its fragment',
    )
    .action(bind(async () => (await import('./commands/serve.ts')).runServe));

  program
    .command('codex')
    .description(
      'Run the installed codex through the router (config overrides only, no file edits).',
    )
    .option('--profile <name>', 'pin this Codex process to a profile ("auto": the router chooses)')
    .argument('[args...]', 'arguments for codex, after --')
    .allowUnknownOption()
    .action(bind(async () => (await import('./commands/codex.ts')).runCodex));

  program
    .command('codex-config')
    .description(
      'Print the config.toml provider block for using the router permanently (--write puts it in).',
    )
    .option(
      '--write',
      "put the block into Codex's config.toml ($CODEX_HOME, default ~/.codex) in the right places",
    )
    .option('--remove', 'take what --write put in out again, and put back what it set aside')
    .action(bind(async () => (await import('./commands/codex.ts')).runCodexConfig));

  program
    .command('prime')
    .description('Prime idle quota windows now (only profiles with priming on, unless named).')
    .argument('[name]', 'one profile')
    .option('--dry-run', 'print the exact request without sending it (tokens redacted)')
    .action(bind(async () => (await import('./commands/priming.ts')).runPrime));

  program
    .command('priming')
    .description('Turn priming on or off for a profile.')
    .argument('<state>', '"on" or "off"')
    .argument('<name>', 'profile name')
    .action(bind(async () => (await import('./commands/priming.ts')).runPrimingToggle));

  program
    .command('token')
    .description(
      "Print the router's local token (for Codex's command-backed auth), or replace it with --rotate.",
    )
    .option('--ensure-router', 'first start a router in the background when none runs')
    .option('--home <path>', 'the home to answer for (in place of CODEX_LAB_HOME)')
    .option('--port <port>', "the router's port (in place of CODEX_LAB_PORT)")
    .option('--host <address>', 'the loopback address a router it starts listens on')
    .option('--rotate', 'replace the token with a new one (a running router adopts it at once)')
    .option(
      '--revoke-old',
      'with --rotate: refuse the old token at once instead of after 10 minutes',
    )
    .action(bind(async () => (await import('./commands/token.ts')).runToken));

  program
    .command('status')
    .description('Show whether a router runs for this home: port, pid, uptime, profiles, version.')
    .option('--json', 'print JSON')
    .action(bind(async () => (await import('./commands/router.ts')).runStatus));

  program
    .command('stop')
    .description(
      "Stop this home's router cleanly: the turns it is streaming finish first (at most 30 s).",
    )
    .action(bind(async () => (await import('./commands/router.ts')).runStop));

  program
    .command('dashboard')
    .description("Open the running router's dashboard in the browser (the link carries the token).")
    .option('--print', 'print the link instead of opening it')
    .action(bind(async () => (await import('./commands/router.ts')).runDashboard));

  // Each command says its own mistakes, pointing at its own help (`codex-lab log --help`).
  for (const command of [program, ...program.commands]) {
    command.configureOutput({
      ...command.configureOutput(),
      outputError: (text: string, write: (text: string) => void) =>
        write(commandLineError(text, command)),
    });
  }
  return program;
}

/**
 * What commander parses for `argv`. The bare command asks what there is to do: the help, on
 * stdout, exit 0 (commander's own default is the help on stderr as a usage error, which a first
 * command is not). `help NAME` for a NAME that is no command is the mistake `codex-lab NAME` is,
 * and is parsed as that, so it gets the same one sentence and exit 2 (commander's own answer is the
 * whole help on stderr); `help` and `help COMMAND` stay commander's, the help on stdout.
 */
function commandLine(argv: string[], program: Command): string[] {
  if (argv.length === 0) return ['--help'];
  const [first, name] = argv;
  const isCommand = (candidate: string) =>
    program.commands.some(
      (command) => command.name() === candidate || command.aliases().includes(candidate),
    );
  if (first === 'help' && name !== undefined && !name.startsWith('-') && !isCommand(name)) {
    return argv.slice(1);
  }
  return argv;
}

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function runCli(argv: string[], given?: CliContext): Promise<number> {
  let exitCode = 0;
  let context: CliContext | undefined = given;
  if (!given) {
    endQuietlyOnClosedPipe(process.stdout);
    endQuietlyOnClosedPipe(process.stderr);
  }
  try {
    // Settings are validated before any command runs: a malformed CODEX_LAB_* variable is one
    // sentence and exit 1 on every command, as it is a dialog in the desktop app.
    context ??= createCliContext();
    const program = buildProgram(context, (code) => {
      exitCode = code;
    });
    await program.parseAsync(commandLine(argv, program), { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version exit 0; a malformed command line has already been explained by commander.
      return error.exitCode === 0 ? 0 : exitUsage;
    }
    if (isLabError(error)) {
      writeLine(
        context?.stderr ?? process.stderr,
        `codex-lab: ${withCliFix(error.message, error.fix)}`,
      );
      return failureExitCode(error.code);
    }
    throw error;
  }
}

/**
 * A reader that goes away before the output ends (`codex-lab list | head -1`) ends the output, as
 * it does for any Unix tool: without this, the next write's EPIPE reaches the user as a stack
 * trace and exit 1. Any other stream error is still a bug, and still throws.
 */
function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}
