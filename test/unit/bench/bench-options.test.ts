/** A bench's options are read strictly: a mistyped one never runs the bench on its defaults. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const helper = resolve(import.meta.dirname, '../../../bench/helpers/options.ts');
const script = `
  const { benchOptions } = await import(${JSON.stringify(helper)});
  const options = benchOptions('node bench/x.mjs [--turns N] [--baseline DIR] [--no-write]', {
    turns: 4,
    baseline: null,
    'no-write': false,
  });
  process.stdout.write(JSON.stringify(options));
`;

const folder = mkdtempSync(join(tmpdir(), 'bench-options-'));
const scriptFile = join(folder, 'x.mjs');
writeFileSync(scriptFile, script);
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** Runs the helper in its own Node process, as a bench runs it, with `args` after the script. */
function run(...args: string[]) {
  const result = spawnSync(process.execPath, [scriptFile, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('benchOptions', () => {
  it('gives the defaults, and what was asked for', () => {
    expect(JSON.parse(run().stdout)).toEqual({ turns: 4, baseline: null, 'no-write': false });
    expect(
      JSON.parse(run('--turns', '64', '--baseline', '../before', '--no-write').stdout),
    ).toEqual({
      turns: 64,
      baseline: '../before',
      'no-write': true,
    });
  });

  it('prints the usage for --help and runs nothing', () => {
    const result = run('--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: node bench\/x\.mjs \[--turns N\]/);
    expect(result.stdout).not.toContain('{');
  });

  it.each([
    [['--turn', '3'], "Unknown option '--turn'. Usage: node bench/x.mjs"],
    [['--turns'], "Option '--turns <value>' argument missing. Usage:"],
    [['--turns', 'x'], '--turns takes a positive whole number, not "x".'],
    [['--turns', '0'], '--turns takes a positive whole number, not "0".'],
    [['--turns', '2.5'], '--turns takes a positive whole number, not "2.5".'],
    [['64'], 'Unexpected argument'],
  ])('refuses %j with one sentence and exit 2', (args, sentence) => {
    const result = run(...args);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(sentence);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
