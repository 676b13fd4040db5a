/**
 * The logger and the profile store a command uses: one logger per command (warnings and up, or
 * `CODEX_LAB_LOG_LEVEL`), given to the store too, so what the store does on its own (a lost
 * registry rebuilt, an interrupted operation finished, refreshed tokens saved late) is said on
 * the command's stderr instead of happening silently: in sentences, each once, terminal or pipe
 * (`command-log.ts`).
 */
import { createCommandLogger } from './command-log.ts';
import type { Logger } from '../ports.ts';
import { createProfileStore } from '../profiles/create-store.ts';
import type { ProfileStore } from '../profiles/store.ts';
import type { CliContext } from './context.ts';

const loggers = new WeakMap<CliContext, Logger>();

/** The command's logger (one per context). */
export function cliLogger(context: CliContext): Logger {
  let logger = loggers.get(context);
  if (logger === undefined) {
    logger = createCommandLogger({
      stream: context.stderr,
      level: context.config.logLevel ?? 'warn',
    });
    loggers.set(context, logger);
  }
  return logger;
}

/** A profile store over the command's home, with the system keychain and the command's logger. */
export function cliProfileStore(context: CliContext): ProfileStore {
  return createProfileStore({ paths: context.paths, logger: cliLogger(context) });
}
