import { RPCClient } from 'ocpp-rpc';
import type { RpcClientOptions } from '../lib/ocpp/rpc-types';
import { quirkTolerantValidator } from './schema';
import type { CpAction, LinkOptions, SentMessage } from './types';
import type { Link201 } from './v201/link';

/** How the link's WebSocket client is set up. */
export interface ClientSettings {
  endpoint: string;
  identity: string;
  /** The link's OCPP 2.0.1 side; undefined under 1.6. */
  v201: Link201 | undefined;
  /** Quirk: offer no sub-protocol. */
  noSubProtocol: boolean;
  callTimeoutMs: number;
  pingIntervalMs: number;
  password: string | undefined;
  wsOpts: Record<string, unknown>;
}

/** What the client reports to the link. */
export interface ClientEvents {
  /** Any request either way (an OCPP exchange). */
  exchange(): void;
  /** A 1.6 request of the charge point went out. */
  sent(message: SentMessage): void;
  /** The answer to the central system's `messageId` is being written. */
  answering(messageId: string): void;
  /** A request from the central system. */
  request(action: string, params: unknown, messageId: string): Promise<unknown>;
}

/** Where the link dials, checked: the central system's ws:// or wss:// URL, for `identity`. */
export function linkEndpoint(options: LinkOptions): string {
  if (!options.identity) throw new Error('identity is required');
  if (!/^wss?:\/\//.test(options.centralSystemUrl)) {
    throw new Error(`centralSystemUrl must start with ws:// or wss://, not "${options.centralSystemUrl}"`);
  }
  // "appending to the path first a '/' and then a string uniquely identifying the Charge Point"
  // (OCPP-J 3.1.1); ocpp-rpc adds the '/', so a trailing one in the endpoint would double it.
  return options.centralSystemUrl.replace(/\/+$/, '');
}

/** The ocpp-rpc client of the simulated charge point's link (sim/link.ts), not yet connected. */
export function createClient(settings: ClientSettings, events: ClientEvents): RPCClient {
  const { noSubProtocol, v201, password } = settings;
  const client = new RPCClient({
    endpoint: settings.endpoint,
    identity: settings.identity,
    // ocpp-rpc's strict mode needs an offered sub-protocol; without one the simulator validates itself.
    ...(v201?.clientOptions() ?? {
      protocols: noSubProtocol ? [] : ['ocpp1.6'],
      strictMode: noSubProtocol ? false : ['ocpp1.6'],
      strictModeValidators: [quirkTolerantValidator],
    }),
    reconnect: false,
    callTimeoutMs: settings.callTimeoutMs,
    pingIntervalMs: settings.pingIntervalMs,
    ...(password ? { password } : {}),
    wsOpts: settings.wsOpts,
  } as RpcClientOptions);
  client.on('call', ({ outbound, payload }: { outbound: boolean; payload: unknown[] }) => {
    // "Interval of inactivity (no OCPP exchanges)" (9.1.10): any request either way postpones the heartbeat.
    events.exchange();
    // (Under 2.0.1 its side reports the simulator's own request the 2.0.1 one carries.)
    if (!outbound || v201) return;
    const [, messageId, action, request] = payload as [number, string, CpAction, never];
    events.sent({ action, request, messageId } as SentMessage);
  });
  v201?.attach(client);
  client.on('response', ({ outbound, payload }: { outbound: boolean; payload: unknown[] }) => {
    if (!outbound) return;
    events.answering(payload[1] as string);
  });
  // One handler for every action; ocpp-rpc's typings want a Record result, NOREPLY is a symbol.
  const handler = async ({
    method,
    params,
    messageId,
  }: {
    method?: string;
    params?: unknown;
    messageId?: string;
  }) => events.request(method ?? '', params, messageId ?? '');
  client.handle(handler as unknown as Parameters<RPCClient['handle']>[0]);
  return client;
}

/** TLS options for ws from the configured ones. */
export function tlsOptions(tls: LinkOptions['tls']): Record<string, unknown> {
  return {
    minVersion: 'TLSv1.2',
    ...(tls?.ca ? { ca: tls.ca } : {}),
    ...(tls?.cert ? { cert: tls.cert } : {}),
    ...(tls?.key ? { key: tls.key } : {}),
  };
}

/** The SecurityProfile the connection settings amount to: 3 with a client certificate, 2 over TLS, 1 with a password. */
export function initialSecurityProfile(options: LinkOptions, endpoint: string): number {
  return options.tls?.cert ? 3 : endpoint.startsWith('wss') ? 2 : options.password ? 1 : 0;
}
