/**
 * The one reading of a name a command was given, as an argument (`remove NAME`) or an option
 * (`--profile NAME`): absent where it is required, or empty (`''`, an unset shell variable), it is
 * refused as missing, in one sentence whichever command met it, before anything is done (an empty
 * name is never "no name", which for `prime` would mean every profile with priming on).
 */
import { LabError } from '../errors.ts';

/**
 * `value` when it is a name; otherwise the failure that says `what` is missing
 * ("the profile name" unless told).
 */
export function nameArgument(value: string | undefined, what = 'the profile name'): string {
  if (value === undefined || value === '') {
    throw new LabError('invalid_argument', `Missing ${what}; see \`codex-lab --help\`.`);
  }
  return value;
}

/** An optional name (`prime [NAME]`, `--profile NAME`): undefined when not given, else `nameArgument`'s. */
export function optionalNameArgument(value: unknown): string | undefined {
  return typeof value === 'string' ? nameArgument(value) : undefined;
}
