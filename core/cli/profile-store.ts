/**
 * The logger and the profile store a command uses: one logger per command (warnings and up, or
 * `CODEX_LAB_LOG_LEVEL`), given to the store too, so what the store does on its own (a lost
 * registry rebuilt, an interrupted operation finished, refreshed tokens saved late) is said on
 * the command's stderr instead of happening silently: in sentences, each once, terminal or pipe
 * (`command-log.ts`).
 */
import { createCommandLogger } from './command-log.ts';
import { reportFileWarningsTo } from '../home/files.ts';
import { systemClock, type Logger } from '../ports.ts';
import { createProfileStore } from '../profiles/create-store.ts';
import { KeychainDeadline } from '../profiles/keychain-deadline.ts';
import type { ProfileStore } from '../profiles/store.ts';
import type { CliContext } from './context.ts';

const loggers = new WeakMap<CliContext, Logger>();
const deadlines = new WeakMap<CliContext, KeychainDeadline>();

/** The command's logger (one per context). */
export function cliLogger(context: CliContext): Logger {
  let logger = loggers.get(context);
  if (logger === undefined) {
    logger = createCommandLogger({
      stream: context.stderr,
      level: context.config.logLevel ?? 'warn',
    });
    loggers.set(context, logger);
    // A write kept waiting by another program holding its file open is said on stderr too.
    reportFileWarningsTo(logger);
  }
  return logger;
}

/**
 * The command's one deadline for its keychain reads (one per context): a keychain that hangs is
 * waited for once in a command, whichever steps read it (`usage --refresh` reads the tokens, then
 * the views check them).
 */
export function cliKeychainDeadline(context: CliContext): KeychainDeadline {
  let deadline = deadlines.get(context);
  if (deadline === undefined) {
    deadline = new KeychainDeadline(systemClock);
    deadlines.set(context, deadline);
  }
  return deadline;
}

/**
 * A profile store over the command's home, with the system keychain (read under the command's
 * one deadline) and the command's logger.
 */
export function cliProfileStore(context: CliContext): ProfileStore {
  return createProfileStore({
    paths: context.paths,
    logger: cliLogger(context),
    keychainDeadline: cliKeychainDeadline(context),
  });
}
