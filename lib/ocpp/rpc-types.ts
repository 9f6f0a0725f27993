import type { RPCClient, RPCServer } from 'ocpp-rpc';

/**
 * The ocpp-rpc types this package uses, derived from what the package's entry point exports
 * (`RPCServer`, `RPCClient`, `createValidator`) so that no module reaches into `ocpp-rpc/lib/...`:
 * those files are the library's insides and may move in any release.
 */

/** What ocpp-rpc hands an `auth` callback: the charger's identity, password, address, request. */
export type UpgradeHandshake = Parameters<Parameters<RPCServer['auth']>[0]>[2];

/** A charger's connection as the server's `client` event hands it: a client plus its handshake. */
export type ServerClient = RPCClient & { readonly handshake: UpgradeHandshake };

/** The options of `new RPCServer(...)`. */
export type RpcServerOptions = ConstructorParameters<typeof RPCServer>[0];

/** The options of `new RPCClient(...)`. */
export type RpcClientOptions = ConstructorParameters<typeof RPCClient>[0];
