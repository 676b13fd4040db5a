/**
 * Bounded memory for a stalled event subscriber (issue 9, item 8): a dashboard tab that stops
 * reading `/lab/v1/events` while the state keeps changing. The subscriber's socket never reads;
 * the router must keep at most one pending state for it, not every state since it stalled.
 */
import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../core/ports.ts';
import { createControlApi, type ControlApiService } from '../../core/service/control-api.ts';
import type { LabState } from '../../core/service/contract.ts';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A state of about `bytes` bytes, different each time. */
function bigState(round: number, bytes = 64 * 1024): LabState {
  return { round, padding: 'x'.repeat(bytes) } as unknown as LabState;
}

describe('a subscriber that stops reading /lab/v1/events', () => {
  it('costs at most one pending state, however many changes happen meanwhile', async () => {
    const listeners = new Set<(state: LabState) => void>();
    const service = {
      getState: async () => bigState(0),
      subscribe(listener: (state: LabState) => void) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    } as unknown as ControlApiService;
    const api = createControlApi({ service, clock: systemClock });
    let stream: ServerResponse | null = null;
    const server = createServer((request, response) => {
      stream = response;
      void api(request, response, new URL(request.url ?? '/', 'http://127.0.0.1'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const { port } = server.address() as AddressInfo;
    // A client that sends the request and then never reads a byte.
    const socket = connect(port, '127.0.0.1');
    closers.push(async () => void socket.destroy());
    socket.pause();
    socket.write(`GET /lab/v1/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    while (listeners.size === 0) await new Promise((resolve) => setTimeout(resolve, 10));

    // 1,000 state changes of 64 KB each: 64 MB if every one were kept for this subscriber.
    for (let round = 1; round <= 1000; round += 1) {
      for (const listener of listeners) listener(bigState(round));
      if (round % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const buffered = (stream as ServerResponse | null)?.writableLength ?? 0;
    console.log(`events-backpressure: ${buffered} bytes buffered for the stalled subscriber`);
    // The kernel's socket buffers take what they take; the process keeps about one state.
    expect(buffered).toBeLessThan(3 * 64 * 1024);
  });
});
