/**
 * Where a routing sentence ("reason") names profiles, kept as data beside the text: a rename
 * rewrites exactly those names and nothing else, so a profile called `limited`, `active` or `the`
 * never rewrites the same word elsewhere in the sentence (docs/activity.md, "Renames").
 * Sentences are built with the `named` tag, which records where each `profileRef` lands.
 */

/** One profile named in a sentence: its name starts at offset `at` (UTF-16 units). */
export interface ReasonName {
  at: number;
  profile: string;
}

/** A sentence and where it names profiles, in order. */
export interface NamedText {
  text: string;
  names: readonly ReasonName[];
}

/** A profile's name as `named` places it in a sentence (recorded, not merely written). */
export interface ProfileRef {
  readonly profileRef: string;
}

/** Marks `name` as a profile's name for `named`. */
export function profileRef(name: string): ProfileRef {
  return { profileRef: name };
}

/** A sentence naming no profile. */
export function plainText(text: string): NamedText {
  return { text, names: [] };
}

/**
 * Builds a sentence from a template: a `ProfileRef` is written as its name and recorded, a
 * `NamedText` is inserted with its own names, anything else is written as it is.
 */
export function named(
  strings: TemplateStringsArray,
  ...values: readonly (string | number | ProfileRef | NamedText)[]
): NamedText {
  let text = strings[0] ?? '';
  const names: ReasonName[] = [];
  values.forEach((value, index) => {
    if (typeof value === 'object' && 'profileRef' in value) {
      names.push({ at: text.length, profile: value.profileRef });
      text += value.profileRef;
    } else if (typeof value === 'object') {
      for (const name of value.names)
        names.push({ at: text.length + name.at, profile: name.profile });
      text += value.text;
    } else {
      text += String(value);
    }
    text += strings[index + 1] ?? '';
  });
  return { text, names };
}

/** The profiles of `items`, joined by `separator`, each recorded. */
export function joinNamed(items: readonly NamedText[], separator: string): NamedText {
  let result: NamedText = plainText('');
  items.forEach((item, index) => {
    result = index === 0 ? item : named`${result}${separator}${item}`;
  });
  return result;
}

/**
 * `text` with every name in `names` given the name `rename` returns for it (itself when
 * unchanged), and the names' new places. Only the recorded names change: the rest of the
 * sentence stays word for word. Null when `names` does not fit `text` (a damaged record): the
 * caller then leaves the sentence as it is.
 */
export function renameInReason(
  text: string,
  names: readonly ReasonName[],
  rename: (profile: string) => string,
): NamedText | null {
  let out = '';
  let from = 0;
  const placed: ReasonName[] = [];
  for (const name of names) {
    if (name.at < from || text.slice(name.at, name.at + name.profile.length) !== name.profile) {
      return null;
    }
    out += text.slice(from, name.at);
    const now = rename(name.profile);
    placed.push({ at: out.length, profile: now });
    out += now;
    from = name.at + name.profile.length;
  }
  return { text: out + text.slice(from), names: placed };
}

/** True when `value` is a list of names as `named` records them (a journal line may be damaged). */
export function isReasonNames(value: unknown): value is ReasonName[] {
  return (
    Array.isArray(value) &&
    value.every(
      (entry: unknown) =>
        typeof entry === 'object' &&
        entry !== null &&
        Number.isInteger((entry as { at?: unknown }).at) &&
        typeof (entry as { profile?: unknown }).profile === 'string',
    )
  );
}
