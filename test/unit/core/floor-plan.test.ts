/**
 * The core's floor plan (docs/design.md section 8): lint rejects an upward import inside `core/`, and
 * the real sources — static and dynamic imports alike — form no cycle between folders.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '../../..');
// The plan is read from the lint configuration itself, so the test and the rule cannot drift.
const { coreFloorPlan: plan, topLevelCoreFiles: topLevel } = (await import(
  pathToFileURL(join(root, 'eslint.config.js')).href
)) as { coreFloorPlan: string[][]; topLevelCoreFiles: Set<string> };

async function lint(path: string, text: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(text, { filePath: join(root, path) });
  return result!.messages.map((message) => `${message.ruleId}: ${message.message}`);
}

/** The unit (folder or top-level file) of a path under `core/`, or null outside it. */
function unitOf(path: string): string | null {
  const parts = relative(join(root, 'core'), path).split('/');
  if (parts[0] === '..' || parts.length === 0) return null;
  return parts.length === 1 ? parts[0]!.replace(/\.ts$/, '') : parts[0]!;
}

function sources(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every import edge between units, from `from '…'`, `import('…')` and `export … from '…'`. */
function unitEdges(): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const file of sources(join(root, 'core'))) {
    const from = unitOf(file)!;
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:from\s+|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
      const to = unitOf(resolve(dirname(file), match[1]!));
      if (to === null || to === from) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
    }
  }
  return edges;
}

describe('the core floor plan', () => {
  it('fails lint on an upward import and passes a downward one', async () => {
    const upward = await lint(
      'core/router/floor-plan-probe.ts',
      "import type { LabState } from '../service/contract.ts';\nexport type Probe = LabState;\n",
    );
    expect(upward).toEqual([
      expect.stringMatching(/^no-restricted-imports: .*core\/router sits below .*core\/service/),
    ]);
    const sideways = await lint(
      'core/proxy/floor-plan-probe.ts',
      "import { primeNow } from '../priming/scheduler.ts';\nexport const probe = primeNow;\n",
    );
    expect(sideways).toEqual([expect.stringMatching(/core\/proxy sits below \(or beside\)/)]);
    const leaf = await lint(
      'core/view-types.ts',
      "import type { Clock } from './ports.ts';\nexport type Probe = Clock;\n",
    );
    expect(leaf).toEqual([expect.stringMatching(/core\/view-types sits below/)]);
    const downward = await lint(
      'core/router/floor-plan-probe.ts',
      "import type { SessionView } from '../view-types.ts';\nimport { readConfig } from '../config.ts';\nexport type Probe = SessionView;\nexport const probe = readConfig;\n",
    );
    expect(downward).toEqual([]);
  }, 30_000);

  it('has every unit of core/ on the plan and no import that goes up or sideways', () => {
    const level = new Map(plan.flatMap((group, index) => group.map((unit) => [unit, index])));
    const units = new Set(sources(join(root, 'core')).map((file) => unitOf(file)!));
    for (const unit of units)
      expect(level.has(unit), `core/${unit} is on the floor plan`).toBe(true);
    for (const unit of topLevel) expect(units.has(unit)).toBe(true);
    const upward: string[] = [];
    for (const [from, targets] of unitEdges()) {
      for (const to of targets) {
        if (level.get(to)! >= level.get(from)!) upward.push(`${from} -> ${to}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('leaves no cycle between folders', () => {
    const edges = unitEdges();
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (unit: string, path: string[]): void => {
      if (state.get(unit) === 'done') return;
      if (state.get(unit) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(unit)), unit].join(' -> '));
        return;
      }
      state.set(unit, 'visiting');
      for (const next of edges.get(unit) ?? []) visit(next, [...path, unit]);
      state.set(unit, 'done');
    };
    for (const unit of edges.keys()) visit(unit, []);
    expect(cycles).toEqual([]);
  });
});
