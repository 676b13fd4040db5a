import { describe, expect, it } from 'vitest';
import { codexRunArguments } from '../../../core/cli/commands/codex.ts';

const overrides = ['-c', 'model_provider="codex-lab"'];

describe('codexRunArguments', () => {
  it('runs Codex in its own process, overrides first, for the TUI and every subcommand', () => {
    expect(codexRunArguments(overrides, [])).toEqual(['--no-daemon', ...overrides]);
    expect(codexRunArguments(overrides, ['resume', '--last'])).toEqual([
      '--no-daemon',
      ...overrides,
      'resume',
      '--last',
    ]);
    expect(codexRunArguments(overrides, ['-m', 'queue', 'exec', 'hi'])).toEqual([
      '--no-daemon',
      ...overrides,
      '-m',
      'queue',
      'exec',
      'hi',
    ]);
    // The user's own --no-daemon is not doubled.
    expect(codexRunArguments(overrides, ['--no-daemon'])).toEqual([...overrides, '--no-daemon']);
  });

  it('passes queue on as given: it goes to the server that runs the thread', () => {
    const args = ['queue', '--thread', 't', '--message', 'hi'];
    expect(codexRunArguments(overrides, args)).toEqual(args);
    expect(codexRunArguments(overrides, ['-C', '/repo', ...args])).toEqual([
      '-C',
      '/repo',
      ...args,
    ]);
    // A prompt that only says "queue" is a prompt, after the end of options.
    expect(codexRunArguments(overrides, ['--', 'queue'])).toEqual([
      '--no-daemon',
      ...overrides,
      '--',
      'queue',
    ]);
  });

  it('leaves out --no-daemon where Codex refuses it (--remote, remote-control)', () => {
    expect(codexRunArguments(overrides, ['--remote', 'ws://127.0.0.1:9'])).toEqual([
      ...overrides,
      '--remote',
      'ws://127.0.0.1:9',
    ]);
    expect(codexRunArguments(overrides, ['remote-control'])).toEqual([
      ...overrides,
      'remote-control',
    ]);
  });
});
