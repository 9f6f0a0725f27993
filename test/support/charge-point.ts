import { RPCClient } from 'ocpp-rpc';
import type { RPC_ClientOptions } from 'ocpp-rpc/lib/client';

/**
 * A bare ocpp-rpc client speaking ocpp1.6, for tests that need a real WebSocket peer before the
 * charge-point simulator is involved. ocpp-rpc's typings mark every option as required although
 * the library fills in defaults, hence the cast.
 */
export function rpcChargePoint(
  endpoint: string,
  identity: string,
  extra: Partial<RPC_ClientOptions> = {},
): RPCClient {
  return new RPCClient({
    endpoint,
    identity,
    protocols: ['ocpp1.6'],
    reconnect: false,
    ...extra,
  } as RPC_ClientOptions);
}

/**
 * Answers `action` on a bare charger with what `respond` returns. ocpp-rpc's typings want every
 * handler to return a Promise of a record; the runtime takes any value.
 */
export function answer(client: RPCClient, action: string, respond: (params: unknown) => unknown): void {
  client.handle(action, (async ({ params }: { params?: unknown }) => respond(params)) as Parameters<
    RPCClient['handle']
  >[1]);
}
