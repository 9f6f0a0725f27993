import type { Clock } from '../clock';
import type { ServerClient } from './rpc-types';

/** How long a connection has to answer a ping before a new connection of its identity may replace it. */
export const LIVENESS_TIMEOUT_MS = 5000;

/** The WebSocket under an ocpp-rpc client: ocpp-rpc sends its own pings only on its interval. */
interface Pingable {
  _ws?: { ping?: (data?: Buffer) => void };
}

/**
 * Whether a charger's connection still answers: a WebSocket ping is sent and any byte from the
 * charger within `timeoutMs` (the pong, or any frame) shows it is alive. False when the socket is
 * gone or closes meanwhile; a charger that never answers pings (OCPP-J 1.6 lets it, section 5.3) and
 * sends nothing else in that time counts as gone.
 */
export function answersPing(
  client: ServerClient,
  clock: Clock,
  timeoutMs = LIVENESS_TIMEOUT_MS,
): Promise<boolean> {
  const socket = client.handshake.request.socket;
  if (socket.destroyed) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const done = (alive: boolean) => {
      socket.off('data', answered);
      client.off('close', gone);
      clock.clearTimeout(timer);
      resolve(alive);
    };
    const answered = () => done(true);
    const gone = () => done(false);
    const timer = clock.setTimeout(gone, timeoutMs);
    socket.on('data', answered);
    client.once('close', gone);
    try {
      (client as unknown as Pingable)._ws?.ping?.();
    } catch {
      done(false);
    }
  });
}
