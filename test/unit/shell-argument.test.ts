/** `shellArgument`: each suggested command's arguments quoted so that the command runs pasted. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { codexLabCommand, shellArgument, signInCommand } from '../../core/format.ts';

describe('shellArgument', () => {
  it('leaves a plain argument as it is, on every platform', () => {
    for (const platform of ['linux', 'darwin', 'win32']) {
      expect(shellArgument('alice-2', platform)).toBe('alice-2');
      expect(shellArgument('/home/me/work/app', platform)).toBe('/home/me/work/app');
      expect(shellArgument('--repo', platform)).toBe('--repo');
    }
  });

  it('single-quotes anything else for a POSIX shell, which reads it back unchanged', () => {
    for (const text of ['/tmp/x/ünï repo', "it's", 'a"b', '$HOME `x` \\ *', '']) {
      const quoted = shellArgument(text, 'linux');
      expect(execFileSync('sh', ['-c', `printf '%s' ${quoted}`], { encoding: 'utf8' })).toBe(text);
    }
    expect(shellArgument("it's", 'linux')).toBe("'it'\\''s'");
  });

  it('double-quotes on Windows, where PowerShell and cmd both take it, and keeps backslashes', () => {
    expect(shellArgument('C:\\Users\\me\\app', 'win32')).toBe('C:\\Users\\me\\app');
    expect(shellArgument('C:\\Users\\me\\my app', 'win32')).toBe('"C:\\Users\\me\\my app"');
    expect(shellArgument('say "hi"', 'win32')).toBe('"say ""hi"""');
  });

  it('is how every suggested command is written', () => {
    expect(signInCommand('alice')).toBe('codex-lab login alice');
    expect(codexLabCommand('unpin', '--repo', '/a b')).toBe(
      process.platform === 'win32'
        ? 'codex-lab unpin --repo "/a b"'
        : "codex-lab unpin --repo '/a b'",
    );
  });
});
