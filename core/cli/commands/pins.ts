/**
 * `codex-lab pins [--json]`: the stored session and repository pins, and the profile each names.
 * Reads the registry only, like `list`, and looks at each pinned repository folder.
 */
import { cliProfileStore } from '../profile-store.ts';
import { danglingReferences, pinViews } from '../../service/pins.ts';
import { writeLine, type CliContext } from '../context.ts';
import { codexLabCommand } from '../../format.ts';
import { fitTable, formatJson, outputWidth, wrapText, type FitColumn } from '../format.ts';
import { describeRepoSubfolder, enclosingRepository } from '../../profiles/repo-path.ts';

/**
 * The pins table's columns: on a narrow terminal the fallback rule goes first, then a long path or
 * session id is cut ("…"); the profile each pin names always shows whole.
 */
const pinColumns: FitColumn[] = [
  { header: 'KIND' },
  { header: 'PINNED', min: 16 },
  { header: 'PROFILE' },
  { header: 'WHEN EXHAUSTED', drop: 1 },
];

/** Prints the pins as a table (or JSON: an array of `PinView`). */
export async function runPins(
  context: CliContext,
  _args: string[],
  options: Record<string, unknown>,
): Promise<number> {
  const store = cliProfileStore(context);
  const registry = await store.readRegistry();
  const pins = pinViews(registry);
  const names = (await store.listProfiles()).map((profile) => profile.name);
  for (const sentence of danglingReferences(registry, names)) {
    writeLine(context.stderr, `codex-lab: ${sentence}`);
  }
  // Pins saved inside a repository before a pin had to name its own folder are listed, and said
  // to route nothing, rather than dropped.
  for (const pin of pins) {
    if (pin.kind !== 'repo') continue;
    const repository = await enclosingRepository(pin.key);
    if (repository === null) continue;
    writeLine(
      context.stderr,
      `codex-lab: The repository pin ${pin.key} never applies: ${describeRepoSubfolder(pin.key, repository)}; pin ${repository} instead, and remove this one with ${codexLabCommand('unpin', '--repo', pin.key)}.`,
    );
  }
  if (options['json'] === true) {
    writeLine(context.stdout, formatJson(pins));
    return 0;
  }
  const width = outputWidth(context.stdout);
  if (pins.length === 0) {
    writeLine(
      context.stdout,
      wrapText(
        'No pins yet. Pin a repository with codex-lab pin NAME --repo PATH, or a session with codex-lab pin NAME --session ID.',
        width,
      ),
    );
    return 0;
  }
  const rows = pins.map((pin) => [
    pin.kind,
    pin.key,
    pin.profile,
    pin.allowFallback ? 'falls over when exhausted' : 'strict',
  ]);
  writeLine(context.stdout, fitTable(pinColumns, rows, width).lines.join('\n'));
  return 0;
}
