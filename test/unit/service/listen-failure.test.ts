/**
 * A router that cannot listen says so in one sentence (`listenFailure`), naming the host and port
 * asked for and how to choose others; every operating-system error of the listen gets one, so
 * none reaches the user as a stack trace. An error that is not a failure to listen is left alone.
 * The errors here have the shapes Node gives them (`code`, `syscall`, `address`, `port`).
 */
import { describe, expect, it } from 'vitest';
import { LabError } from '../../../core/errors.ts';
import { listenFailure, type ListenTarget } from '../../../core/service/router-host.ts';

const target: ListenTarget = {
  host: 'evil.example',
  port: 4567,
  portAdvice: 'choose another with --port (0 picks a free one)',
  hostAdvice: 'give --host an address of this machine, or leave it out to listen on 127.0.0.1',
};

/** An error shaped as Node's `listen`/`getaddrinfo` errors are. */
function systemError(code: string, syscall: string, message: string, extra = {}): Error {
  return Object.assign(new Error(message), { code, syscall, errno: -1, ...extra });
}

describe('listenFailure', () => {
  it('names the port and host asked for when another program holds the port', () => {
    const error = systemError('EADDRINUSE', 'listen', 'listen EADDRINUSE: address already in use', {
      address: '127.0.0.1',
      port: 4567,
    });
    const failure = listenFailure(error, { ...target, host: 'localhost' });
    expect(failure).toBeInstanceOf(LabError);
    expect(failure?.code).toBe('port_in_use');
    expect(failure?.message).toBe(
      'Port 4567 on localhost is already in use by another program, so the Codex Lab router cannot listen there: stop that program, or choose another with --port (0 picks a free one).',
    );
  });

  it('says a host name does not resolve, or that its lookup did not answer', () => {
    const unknown = systemError('ENOTFOUND', 'getaddrinfo', 'getaddrinfo ENOTFOUND evil.example', {
      hostname: 'evil.example',
    });
    expect(listenFailure(unknown, target)).toMatchObject({
      code: 'invalid_argument',
      message:
        'evil.example is not a host name this machine can resolve (ENOTFOUND), so the Codex Lab router cannot listen there: give --host an address of this machine, or leave it out to listen on 127.0.0.1.',
    });
    const silent = systemError('EAI_AGAIN', 'getaddrinfo', 'getaddrinfo EAI_AGAIN evil.example');
    expect(listenFailure(silent, target)?.message).toBe(
      'The name lookup of evil.example did not answer (EAI_AGAIN), so the Codex Lab router cannot listen there: give --host an address of this machine, or leave it out to listen on 127.0.0.1.',
    );
  });

  it('says an address is not this machine’s, with the address a name resolved to', () => {
    const literal = systemError('EADDRNOTAVAIL', 'listen', 'listen EADDRNOTAVAIL', {
      address: '192.0.2.1',
    });
    expect(listenFailure(literal, { ...target, host: '192.0.2.1' })).toMatchObject({
      code: 'invalid_argument',
      message:
        '192.0.2.1 is not an address of this machine, so the Codex Lab router cannot listen there: give --host an address of this machine, or leave it out to listen on 127.0.0.1.',
    });
    const named = systemError('EADDRNOTAVAIL', 'listen', 'listen EADDRNOTAVAIL', {
      address: '93.184.215.14',
    });
    expect(listenFailure(named, target)?.message).toMatch(
      /^evil\.example \(93\.184\.215\.14\) is not an address of this machine,/,
    );
  });

  it('words a refused port, and mentions administrator rights only for a port below 1024', () => {
    const denied = systemError('EACCES', 'listen', 'listen EACCES: permission denied');
    expect(listenFailure(denied, { ...target, host: '127.0.0.1', port: 80 })?.message).toBe(
      'This system does not let Codex Lab listen on port 80 on 127.0.0.1 (permission denied; ports below 1024 need administrator rights): choose another with --port (0 picks a free one).',
    );
    expect(listenFailure(denied, { ...target, host: '127.0.0.1' })?.message).toBe(
      'This system does not let Codex Lab listen on port 4567 on 127.0.0.1 (permission denied): choose another with --port (0 picks a free one).',
    );
  });

  it('gives any other error of the listen one sentence too', () => {
    const family = systemError('EAFNOSUPPORT', 'listen', 'listen EAFNOSUPPORT');
    expect(listenFailure(family, { ...target, host: '::1' })?.message).toMatch(
      /^This machine does not support the kind of address ::1 is .*: give --host /,
    );
    const other = systemError('EINVAL', 'bind', 'bind EINVAL: invalid argument 0.0.0.0:4567');
    expect(listenFailure(other, target)).toMatchObject({
      code: 'io_error',
      message:
        'Codex Lab cannot listen on port 4567 on evil.example (EINVAL: invalid argument 0.0.0.0:4567): give --host an address of this machine, or leave it out to listen on 127.0.0.1, or choose another with --port (0 picks a free one).',
    });
  });

  it('leaves alone what is not a failure to listen: a bug, a file error, an expected failure', () => {
    expect(listenFailure(new TypeError('x is undefined'), target)).toBeNull();
    expect(
      listenFailure(systemError('EACCES', 'open', "EACCES: permission denied, open 'x'"), target),
    ).toBeNull();
    expect(
      listenFailure(new LabError('corrupt_file', 'state/x.json is damaged.'), target),
    ).toBeNull();
    expect(listenFailure('not an error', target)).toBeNull();
  });
});
