/**
 * The one reading of a name a command was given, as an argument (`remove NAME`) or an option
 * (`--profile NAME`): absent where it is required, or empty (`''`, an unset shell variable), it is
 * refused as missing, in one sentence whichever command met it, before anything is done (an empty
 * name is never "no name", which for `prime` would mean every profile with priming on).
 */
import { LabError } from '../errors.ts';

/**
 * `value` when it is a name; otherwise the failure that says `what` is missing ("the profile
 * name" unless told), an `invalid_argument` that points at the command's help (exit 2, as every
 * input error).
 */
export function nameArgument(value: string | undefined, what = 'the profile name'): string {
  if (value === undefined || value === '') {
    // The command's own help is named by `runCli`'s command wrapper, which knows the command.
    throw new LabError('invalid_argument', `Missing ${what}.`, {
      details: { commandHelp: true },
    });
  }
  return value;
}

/** An optional name (`prime [NAME]`, `--profile NAME`): undefined when not given, else `nameArgument`'s. */
export function optionalNameArgument(value: unknown): string | undefined {
  return typeof value === 'string' ? nameArgument(value) : undefined;
}
