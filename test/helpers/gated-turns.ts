/**
 * A fake upstream whose Codex turns are held open after `response.created` until the test opens
 * the gate: a turn in flight for as long as a test needs one (a router stopping with it, say).
 */
import type { FakeHandler } from '../fakes/fake-chatgpt.ts';

/** A turn's answer held open after `response.created` until the test opens the gate. */
export interface Gate {
  /** Resolves when the held turn has sent its first event. */
  started: Promise<void>;
  /** Lets the held turn finish with `response.completed`. */
  open(): void;
}

/** A handler for `startFakeChatGpt` that holds every turn, and the gate that lets them end. */
export function gatedTurns(): { handler: FakeHandler; gate: Gate } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  let started = () => {};
  const startedPromise = new Promise<void>((resolve) => (started = resolve));
  const handler: FakeHandler = async (_fake, request, response) => {
    if (request.method !== 'POST' || !(request.url ?? '').endsWith('/codex/responses'))
      return false;
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const send = (event: Record<string, unknown>) =>
      response.write(`event: ${String(event['type'])}\ndata: ${JSON.stringify(event)}\n\n`);
    const base = { id: 'resp_held', object: 'response', model: 'gpt-5.5' };
    send({ type: 'response.created', response: { ...base, status: 'in_progress', output: [] } });
    started();
    await opened;
    const item = {
      id: 'msg_held',
      type: 'message',
      role: 'assistant',
      content: [{ type: 'output_text', text: 'finished' }],
    };
    send({ type: 'response.output_item.done', output_index: 0, item });
    send({
      type: 'response.completed',
      response: { ...base, status: 'completed', output: [item] },
    });
    response.end();
    return true;
  };
  return { handler, gate: { started: startedPromise, open } };
}
