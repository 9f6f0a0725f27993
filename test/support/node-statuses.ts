import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { until } from './events';

/** A node's status as the editor shows it under the node. */
export interface NodeStatusEvent {
  text?: string;
  fill?: string;
  shape?: string;
}

/**
 * Every node status a running Node-RED publishes, as the editor receives them: a client of its
 * comms WebSocket subscribed to `status/#` (retained statuses come at once, then every change).
 */
export class NodeStatuses extends EventEmitter {
  private readonly latest = new Map<string, NodeStatusEvent>();
  private readonly seen = new Map<string, string[]>();

  private constructor(private readonly socket: WebSocket) {
    super();
    socket.on('message', (data) => {
      const messages = JSON.parse(String(data)) as { topic?: string; data?: NodeStatusEvent }[];
      for (const message of Array.isArray(messages) ? messages : [messages]) {
        const id = /^status\/(.+)$/.exec(message.topic ?? '')?.[1];
        if (!id) continue;
        const status = message.data ?? {};
        this.latest.set(id, status);
        this.seen.set(id, [...(this.seen.get(id) ?? []), status.text ?? '']);
        this.emit('status', id, status);
      }
    });
  }

  /** Connects to the comms WebSocket of the Node-RED at `url` (no adminAuth) and subscribes. */
  static async of(url: string): Promise<NodeStatuses> {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/comms`);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    socket.send(JSON.stringify({ subscribe: 'status/#' }));
    return new NodeStatuses(socket);
  }

  /** The text the node with `id` shows now ('' when none). */
  textOf(id: string): string {
    return this.latest.get(id)?.text ?? '';
  }

  /** Every text the node has shown since the subscription (or since `mark`), oldest first. */
  textsOf(id: string, mark?: Map<string, number>): string[] {
    return (this.seen.get(id) ?? []).slice(mark?.get(id) ?? 0);
  }

  /** Where each node's texts stand now: textsOf(id, mark) is what it showed after this. */
  mark(): Map<string, number> {
    return new Map([...this.seen].map(([id, texts]) => [id, texts.length]));
  }

  /** Resolves once `check()` holds, checked now and at each status; rejects after `timeoutMs`. */
  async until(check: () => boolean, timeoutMs: number): Promise<void> {
    await until(check, [[this, 'status']], timeoutMs);
  }

  close(): void {
    this.socket.close();
  }
}
