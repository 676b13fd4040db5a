/**
 * A JSON-RPC client over `codex app-server`'s standard streams (one JSON message per line), for
 * the end-to-end tests that drive Codex's own app-server (its usage read, its model list).
 */
import type { ChildProcess } from 'node:child_process';

/** A client of the app-server `child`: requests (answered by id) and notifications. */
export function rpc(child: ChildProcess): {
  request: (method: string, params?: unknown) => Promise<Record<string, unknown>>;
  notify: (method: string) => void;
} {
  let buffered = '';
  let nextId = 0;
  const waiting = new Map<number, (message: Record<string, unknown>) => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (!line.startsWith('{')) continue;
      const message = JSON.parse(line) as Record<string, unknown>;
      if (typeof message['id'] === 'number' && !('method' in message)) {
        waiting.get(message['id'])?.(message);
        waiting.delete(message['id']);
      }
    }
  });
  return {
    request: (method, params) =>
      new Promise((resolvePromise) => {
        const id = nextId++;
        waiting.set(id, resolvePromise);
        child.stdin?.write(`${JSON.stringify({ id, method, ...(params ? { params } : {}) })}\n`);
      }),
    notify: (method) => void child.stdin?.write(`${JSON.stringify({ method })}\n`),
  };
}
