import type { Node, NodeMessage, NodeMessageInFlow } from 'node-red';

/** What a node sends on: one message, or one entry (a message, messages, nothing) per output. */
export type Send = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;

/**
 * Handles a message: returns (or resolves) once it is handled, throws (or rejects) when it cannot
 * be; the message in hand goes to the Catch nodes with the error.
 */
export type InputHandler<M extends NodeMessageInFlow> = (msg: M, send: Send) => void | Promise<void>;

/**
 * The one way a node of this package takes input. `handle` may be synchronous or asynchronous;
 * whatever it throws or rejects with reaches the flow's Catch nodes together with the message,
 * through `done(err)` where Node-RED passes `done` (1.0 and later), else through
 * `node.error(err, msg)`. Nothing escapes as an unhandled rejection, which would end Node-RED.
 */
export function onInput<M extends NodeMessageInFlow = NodeMessageInFlow>(
  node: Node,
  handle: InputHandler<M>,
): void {
  node.on('input', (msg, send, done) => {
    const finish = (err?: Error) => {
      if (typeof done === 'function') done(err);
      else if (err) node.error(err, msg);
    };
    const fail = (err: unknown) => finish(err instanceof Error ? err : new Error(String(err)));
    let handled: void | Promise<void>;
    try {
      handled = handle(msg as M, typeof send === 'function' ? send : (out) => node.send(out));
    } catch (err) {
      fail(err);
      return;
    }
    if (handled instanceof Promise) handled.then(() => finish(), fail);
    else finish();
  });
}
