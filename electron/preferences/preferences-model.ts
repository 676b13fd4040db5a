/**
 * The app's preferences as a pure model: their schema and defaults, loading them from a file that
 * may be damaged, and validated changes. The file itself is electron-store's (preferences.ts wires
 * it); here it is an injected backend, so every rule is unit-tested under Node. Preferences are not
 * account data, but a file that cannot be used is still never overwritten at load: the app starts
 * on the defaults and names the file once, one rule for every case. A file the OS will not read (a
 * folder, no permission) is left as it is: a change says it could not be saved. A damaged file
 * (not JSON) is left as it is until the user changes a preference; that change keeps it as
 * `preferences.json.unreadable-<time>` (as a sign-in keeps an auth.json that does not read) and
 * writes a new one. Invalid values in a file that reads are replaced by their defaults in memory;
 * the file takes them with the next change.
 */
import { z } from 'zod';
import type { ContractResult } from '../../core/service/contract.ts';

const bounds = z.object({
  x: z.number().int().optional(),
  y: z.number().int().optional(),
  width: z.number().int().min(200).max(10_000),
  height: z.number().int().min(200).max(10_000),
});

/** Saved window position and size. */
export type WindowBounds = z.infer<typeof bounds>;

/**
 * How "Add account" signs in: the sign-in page in the system browser or our popup, or a one-time
 * code entered on the issuer's page (from any browser). One preference: the tray's submenu, the
 * settings page's section and the Add account dialog all read and write it.
 */
export const signInMethods = ['browser', 'popup', 'device'] as const;

/** One of `signInMethods`. */
export type SignInMethod = (typeof signInMethods)[number];

/** Every preference and its accepted values. */
export const preferencesSchema = z.object({
  settingsBounds: bounds,
  /** Start Codex Lab when the user signs in to the computer. */
  launchAtLogin: z.boolean(),
  /** How Add account signs in: the system browser (default), our popup, or a one-time code. */
  signIn: z.enum(signInMethods),
  /** Desktop notifications when an account is limited or needs signing in. */
  notifications: z.boolean(),
});

/** Everything the app remembers between runs. */
export type Preferences = z.infer<typeof preferencesSchema>;

/** The preferences a user changes from the settings page or the tray (not window bounds). */
export const preferencesPatchSchema = preferencesSchema
  .pick({ launchAtLogin: true, signIn: true, notifications: true })
  .partial()
  .strict();

/** A change request from the settings page or the tray. */
export type PreferencesPatch = z.infer<typeof preferencesPatchSchema>;

/** First-run values: sign-in in the system browser (RFC 8252), notifications on. */
export const defaultPreferences: Preferences = {
  settingsBounds: { width: 980, height: 760 },
  launchAtLogin: false,
  signIn: 'browser',
  notifications: true,
};

/** The file behind the preferences (electron-store in the app, conf in tests). */
export interface PreferencesBackend {
  /** Everything the file holds; throws a `SyntaxError` when it is not JSON. */
  read(): unknown;
  /**
   * Replaces the file's contents. `byUser` is false for what the app saves on its own (window
   * bounds): a backend standing in for a damaged file keeps those in memory only.
   */
  write(values: Preferences, byUser: boolean): void;
}

/** What `loadPreferences` needs around the backend. */
export interface LoadPreferencesOptions {
  /** Opens the backend; may throw a `SyntaxError` for a damaged file (electron-store reads at once). */
  open(): PreferencesBackend;
  /** The file's path, for the message. */
  path: string;
  /**
   * Keeps the damaged file under a new name beside it (`preferences.json.unreadable-<time>`);
   * returns that name. Called at the user's first change, never at load.
   */
  setAside(path: string): string;
  /** Tells the user once (a dialog in the app) and logs. */
  report(message: string): void;
}

/**
 * Reads the preferences, using the defaults for a file that cannot be used or for invalid values.
 * Nothing is written, moved or removed here, only by a change (`PreferencesStore`).
 */
export function loadPreferences(options: LoadPreferencesOptions): PreferencesStore {
  let backend: PreferencesBackend;
  let raw: unknown;
  try {
    backend = options.open();
    raw = backend.read();
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    if (error.name === 'SyntaxError') {
      return startOnDefaults(
        options,
        'is damaged (it is not JSON), so Codex Lab uses its default preferences and leaves the ' +
          'file as it is; your next change of a preference keeps it beside the new one as ' +
          `${options.path}.unreadable-<time>.`,
        { ...defaultPreferences },
        replacedOnChange(options),
      );
    }
    // A file that cannot be read at all (a folder, no permission) may be anything: left as it is.
    const why = fileErrorWords(error);
    if (why === null) throw error;
    return startOnDefaults(
      options,
      `${why}, so Codex Lab uses its default preferences and leaves the file as it is; ` +
        'changes are not remembered until it is moved away.',
      { ...defaultPreferences },
      unsavedBackend(options.path, why),
    );
  }
  const { values, invalid } = readValues(raw);
  const written = namedWrites(options.path, backend);
  if (invalid.length === 0) return new PreferencesStore(values, written);
  // Loading never writes (a read-only file must not stop the app starting): the defaults stand
  // in for the invalid values, and the file takes them with the user's next change.
  return startOnDefaults(
    options,
    `has values Codex Lab does not understand (${invalid.join(', ')}), so their defaults are ` +
      'used; the file is rewritten at your next change of a preference.',
    values,
    written,
  );
}

/**
 * The one way a file that cannot be used is met at load: `values` (the defaults where the file
 * gave none) for this run, the file named once in one sentence, nothing written. `backend` is
 * what a later change writes through.
 */
function startOnDefaults(
  options: LoadPreferencesOptions,
  problem: string,
  values: Preferences,
  backend: PreferencesBackend,
): PreferencesStore {
  options.report(`The preferences file ${options.path} ${problem} Your accounts are not affected.`);
  return new PreferencesStore(values, backend);
}

/** "is a folder", "cannot be read (EACCES)": why a file the OS refused to read was, or null. */
function fileErrorWords(error: Error): string | null {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') return null;
  return code === 'EISDIR' ? 'is a folder, not a file' : `cannot be read (${code})`;
}

/**
 * `backend` whose failed write names the preferences file itself ("… cannot be written
 * (EACCES)"), not the temporary file electron-store writes first: the sentence a change that
 * could not be saved ends with.
 */
function namedWrites(path: string, backend: PreferencesBackend): PreferencesBackend {
  return {
    read: () => backend.read(),
    write: (values, byUser) => {
      try {
        backend.write(values, byUser);
      } catch (error) {
        if (!(error instanceof Error)) throw error;
        const code = (error as NodeJS.ErrnoException).code;
        const why =
          typeof code === 'string'
            ? `cannot be written (${code})`
            : `cannot be written: ${error.message}`;
        throw new Error(`${path} ${why}, so changes are not remembered until it can be.`, {
          cause: error,
        });
      }
    },
  };
}

/**
 * A backend that keeps nothing: every write fails with a sentence naming the file, so a change
 * the user makes says it was not saved (it still applies for this run).
 */
function unsavedBackend(path: string, why: string): PreferencesBackend {
  return {
    read: () => ({}),
    write: () => {
      throw new Error(`${path} ${why}, so changes are not remembered until it is moved away.`);
    },
  };
}

/**
 * The backend for a damaged file: nothing is written until the user changes a preference; then
 * the file is kept under its backup name and a new one is written. Window bounds saved before
 * that stay in memory and go with the change. A file that cannot be moved is not written over:
 * the change says it was not saved, naming the file.
 */
function replacedOnChange(options: LoadPreferencesOptions): PreferencesBackend {
  let replaced: PreferencesBackend | null = null;
  return {
    read: () => ({}),
    write: (values, byUser) => {
      if (replaced === null) {
        if (!byUser) return;
        try {
          options.setAside(options.path);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          const why = typeof code === 'string' ? ` (${code})` : '';
          throw new Error(
            `${options.path} is damaged and could not be moved aside${why}, so changes are not ` +
              'remembered until it is removed.',
            { cause: error },
          );
        }
        replaced = namedWrites(options.path, options.open());
      }
      replaced.write(values, byUser);
    },
  };
}

/** Keeps every valid value and replaces each invalid or missing one by its default. */
export function readValues(raw: unknown): { values: Preferences; invalid: string[] } {
  const source = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const values = { ...defaultPreferences } as Record<string, unknown>;
  const invalid: string[] = [];
  for (const [key, schema] of Object.entries(preferencesSchema.shape)) {
    if (source[key] === undefined) continue;
    const parsed = schema.safeParse(source[key]);
    if (parsed.success) values[key] = parsed.data;
    else invalid.push(key);
  }
  return { values: values as Preferences, invalid };
}

/** The preferences in memory, written through to the file on every change. */
export class PreferencesStore {
  #values: Preferences;
  readonly #backend: PreferencesBackend;
  readonly #listeners = new Set<(values: Preferences, previous: Preferences) => void>();

  constructor(values: Preferences, backend: PreferencesBackend) {
    this.#values = values;
    this.#backend = backend;
  }

  /** One preference. */
  get<K extends keyof Preferences>(key: K): Preferences[K] {
    return this.#values[key];
  }

  /** A copy of every preference. */
  all(): Preferences {
    return structuredClone(this.#values);
  }

  /** Sets one value the app itself manages (window bounds); a failed write keeps it in memory. */
  set<K extends keyof Preferences>(key: K, value: Preferences[K]): void {
    this.#commit({ ...this.#values, [key]: value }, false);
  }

  /** Applies a user's change after validating it (an unknown key or a wrong value is refused). */
  update(patch: unknown): ContractResult<Preferences> {
    const parsed = preferencesPatchSchema.safeParse(patch);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` (${issue.path.join('.')})` : '';
      return {
        ok: false,
        code: 'bad_request',
        message: `That preference change was not understood: ${issue?.message ?? 'invalid input'}${where}.`,
      };
    }
    const next = { ...this.#values };
    for (const [key, value] of Object.entries(parsed.data)) {
      if (value !== undefined) (next as Record<string, unknown>)[key] = value;
    }
    const written = this.#commit(next, true);
    if (!written.ok) return written;
    return { ok: true, value: this.all() };
  }

  /** Calls `listener` after every change; returns the unsubscribe. */
  onChange(listener: (values: Preferences, previous: Preferences) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #commit(next: Preferences, byUser: boolean): ContractResult<null> {
    const previous = this.#values;
    this.#values = next;
    let result: ContractResult<null> = { ok: true, value: null };
    try {
      this.#backend.write(next, byUser);
    } catch (error) {
      // The change still applies for this run; only remembering it failed.
      result = {
        ok: false,
        code: 'io_error',
        message: `The preference was changed but could not be saved: ${(error as Error).message}`,
      };
    }
    for (const listener of this.#listeners) listener(this.all(), previous);
    return result;
  }
}
