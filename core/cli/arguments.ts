/**
 * The one reading of a name a command was given, as an argument (`remove NAME`) or an option
 * (`--profile NAME`): absent where it is required, or empty (`''`, an unset shell variable), it is
 * refused as missing, in one sentence whichever command met it, before anything is done (an empty
 * name is never "no name", which for `prime` would mean every profile with priming on).
 */
import { isLabError, LabError } from '../errors.ts';

/**
 * `value` when it is a name; otherwise the failure that says `what` is missing ("the profile
 * name" unless told), a refused command line that points at the command's help (exit 2).
 */
export function nameArgument(value: string | undefined, what = 'the profile name'): string {
  if (value === undefined || value === '') {
    // The command's own help is named by `runCli`'s command wrapper, which knows the command.
    throw new LabError('invalid_argument', `Missing ${what}.`, {
      details: { commandLine: true, commandHelp: true },
    });
  }
  return value;
}

/** An optional name (`prime [NAME]`, `--profile NAME`): undefined when not given, else `nameArgument`'s. */
export function optionalNameArgument(value: unknown): string | undefined {
  return typeof value === 'string' ? nameArgument(value) : undefined;
}

/**
 * `rule()`'s value; a `LabError` it throws refuses what was typed on the command line: the same
 * sentence (every surface's), marked `commandLine` so that `runCli` exits 2, as it does for the
 * command lines commander refuses.
 */
export function commandLineRule<T>(rule: () => T): T {
  try {
    return rule();
  } catch (error) {
    if (!isLabError(error)) throw error;
    throw new LabError(error.code, error.message, {
      cause: error,
      details: { ...error.details, commandLine: true },
    });
  }
}
