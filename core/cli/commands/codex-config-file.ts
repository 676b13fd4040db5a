/**
 * `codex-lab codex-config --write` and `--remove`: the file effects around the pure editor
 * (`core/proxy/codex-config-file.ts`). Codex's config file is `$CODEX_HOME/config.toml`
 * (`~/.codex/config.toml` by default; `codexConfigFilePath`). It is read once, edited in memory, checked by the editor,
 * and only then written atomically with its own mode; the first write keeps a backup beside it.
 */
import { lstat, mkdir, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LabError } from '../../errors.ts';
import { codexConfigFilePath } from '../../home/codex-home.ts';
import {
  fileMode,
  folderMode,
  notAFolderError,
  readTextFile,
  writeFileAtomically,
} from '../../home/files.ts';
import {
  annotateCodexConfigBlock,
  keptPrefix,
  removeCodexConfig,
  writeCodexConfig,
  writtenMarker,
} from '../../proxy/codex-config-file.ts';
import { codexProviderId, retiredCodexConfigBlock } from '../../proxy/codex-config.ts';
import { writeLine, type CliContext } from '../context.ts';

/** Where the first `--write` keeps the file as it was. */
export function codexConfigBackupPath(path: string): string {
  return `${path}.codex-lab-backup`;
}

/** Whether `path` itself is a regular file (not a link to one). */
async function isPlainFile(path: string): Promise<boolean> {
  return lstat(path).then(
    (info) => info.isFile(),
    () => false,
  );
}

/**
 * Edits Codex's config file so Codex goes through the router (`write`), or takes Codex Lab out
 * of it again (`remove`), printing what it did. `block` is `codexConfigBlock`'s text.
 */
export async function editCodexConfigFile(
  context: CliContext,
  mode: 'write' | 'remove',
  block: string,
): Promise<number> {
  const path = codexConfigFilePath(context.env);
  const before = await readTextFile(path);
  if (before === undefined && mode === 'remove') {
    writeLine(context.stdout, `There is no ${path}; nothing to remove.`);
    return 0;
  }
  const result =
    mode === 'write'
      ? writeCodexConfig(before ?? '', block, retiredCodexConfigBlock())
      : removeCodexConfig(before ?? '', block, retiredCodexConfigBlock());
  if (!result.ok) {
    if (result.code === 'corrupt_file') {
      throw new LabError(
        'corrupt_file',
        `${path} ${result.message}; fix it and run this again (nothing was written).`,
        { details: { path } },
      );
    }
    if (mode === 'write' && result.advice) {
      throw new LabError(
        'invalid_config',
        `${path} ${result.message}, so nothing was written: ${result.advice}.`,
        { details: { path } },
      );
    }
    if (mode === 'write') {
      // The manual way still works: the block, with where its lines go.
      context.stdout.write(annotateCodexConfigBlock(block));
      throw new LabError(
        'invalid_config',
        `${path} ${result.message}, so nothing was written: add the block printed above by hand, its top-level lines at the top of the file, before any [table].`,
        { details: { path } },
      );
    }
    throw new LabError(
      'invalid_config',
      `${path} ${result.message}, so nothing was written: delete the lines under "${writtenMarker}" and the [model_providers.${codexProviderId}] table by hand, and take "${keptPrefix.trim()}" off the lines that have it.`,
      { details: { path } },
    );
  }
  if (result.strays.length > 0) {
    // A block once appended after a table: harmless now, but Codex warns about it on every run.
    writeLine(
      context.stderr,
      `codex-lab: ${path} still has Codex Lab's top-level keys inside ${result.strays.join(', ')}, from a block appended after it; Codex ignores them there, delete them by hand.`,
    );
  }
  if (!result.changed) {
    writeLine(
      context.stdout,
      mode === 'write'
        ? `${path} already sends Codex through Codex Lab; nothing changed.`
        : `${path} has no Codex Lab settings; nothing changed.`,
    );
    return 0;
  }

  // Codex writes this file too (a trust answer adds a table): never write over a change made
  // since it was read.
  if ((await readTextFile(path)) !== before) {
    throw new LabError(
      'io_error',
      `${path} changed while Codex Lab was editing it, so nothing was written: run this again.`,
      { details: { path } },
    );
  }
  const backup = codexConfigBackupPath(path);
  const hasBackup = await stat(backup).then(
    () => true,
    () => false,
  );
  if (mode === 'remove' && !hasBackup && result.text.trim() === '' && (await isPlainFile(path))) {
    // --write created this file: a file that was there gets a backup on the first --write. Only
    // line breaks are left of it, so deleting it loses nothing (a link is left, and so is a file
    // with anything else in it); backing up Codex Lab's own lines would keep nothing of the user's.
    await unlink(path).catch((error: unknown) => {
      throw new LabError(
        'io_error',
        `Could not delete ${path} (${(error as Error).message}); check that its folder is writable.`,
        { cause: error },
      );
    });
    writeLine(
      context.stdout,
      `Took Codex Lab out of ${path} and deleted it: --write created it and nothing else is in it; Codex uses its own settings again.`,
    );
    return 0;
  }
  if (before === undefined) {
    // A new Codex home is private, as Codex makes it; an existing folder is left as it is.
    await mkdir(dirname(path), { recursive: true, mode: folderMode }).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR') throw notAFolderError(dirname(path), error);
      throw new LabError(
        'io_error',
        `Could not create the folder ${dirname(path)} (${(error as Error).message}); check its permissions.`,
        { cause: error },
      );
    });
    await writeFileAtomically(path, result.text, { mode: fileMode });
  } else {
    // One backup, of the file as it was before Codex Lab first touched it: later runs keep it.
    const fresh = !hasBackup;
    if (fresh) await writeFileAtomically(backup, before, { mode: fileMode });
    await writeFileAtomically(path, result.text);
    writeLine(
      context.stdout,
      fresh
        ? `Backed up ${path} to ${backup}.`
        : `The backup from before the first --write is at ${backup}.`,
    );
  }
  if (mode === 'write') {
    writeLine(
      context.stdout,
      `Codex now goes through Codex Lab: ${path} is set to the ${codexProviderId} provider (codex-lab codex-config --remove undoes it).`,
    );
    // A resume of an older session otherwise fails in Codex, far from this change.
    writeLine(
      context.stdout,
      'Codex records the provider of each session and will not resume it with another: sessions started before this cannot be resumed through Codex Lab, nor those started through it after --remove.',
    );
    if (result.kept.length > 0) {
      // One key or two: the sentence agrees with what was set aside.
      const many = result.kept.length > 1;
      writeLine(
        context.stdout,
        `Your own ${result.kept.join(' and ')} ${many ? 'are' : 'is'} kept in that file as ${many ? '' : 'a '}"${keptPrefix.trim()}" comment${many ? 's' : ''}; --remove puts ${many ? 'them' : 'it'} back.`,
      );
    }
    if (result.tableKept.length > 0) {
      writeLine(
        context.stdout,
        `Put back your own ${listed(result.tableKept)} of the ${codexProviderId} provider, which --remove had set aside.`,
      );
    }
  } else {
    writeLine(
      context.stdout,
      `Took Codex Lab out of ${path}${result.kept.length > 0 ? ` and put back your ${result.kept.join(' and ')}` : ''}; Codex uses its own settings again.`,
    );
    if (result.tableKept.length > 0) {
      // Codex refuses a provider table without the name Codex Lab's keys gave it.
      const many = result.tableKept.length > 1;
      writeLine(
        context.stdout,
        `Your own ${listed(result.tableKept)} of the ${codexProviderId} provider ${many ? 'are' : 'is'} kept in that file as "${keptPrefix.trim()}" comments (Codex refuses the provider without its name); --write puts ${many ? 'them' : 'it'} back.`,
      );
    }
  }
  return 0;
}

/** `a`, `a and b`, `a, b and c`. */
function listed(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
