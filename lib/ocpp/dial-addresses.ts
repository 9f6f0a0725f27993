import { hostname, type NetworkInterfaceInfo, networkInterfaces } from 'node:os';

/** Where chargers can dial a central system that listens at a URL, for people to read. */
export interface DialAddresses {
  /** URLs a charger can dial, the most useful first (the machine's name, then its addresses). */
  urls: string[];
  /** It listens on every interface (`::` or `0.0.0.0`): any of `urls` reaches it. */
  everyInterface: boolean;
}

/** What the machine's network looks like (node:os by default; a test gives its own). */
export interface MachineNetwork {
  hostname: string;
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>;
}

/**
 * The URLs a charger can dial for a server listening at `url`. A server bound to every interface
 * has the unspecified address in its own URL (`ws://[::]:9000/`), which no charger can dial:
 * then the machine's host name and each address of its network interfaces (IPv4 first, link-local
 * IPv6 left out; loopback only when there is nothing else). A server bound to one address is
 * dialled at that address.
 */
export function dialAddresses(
  url: string,
  network: MachineNetwork = { hostname: hostname(), interfaces: networkInterfaces() },
): DialAddresses {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (host !== '::' && host !== '0.0.0.0') return { urls: [url], everyInterface: false };
  const onlyIpv4 = host === '0.0.0.0';
  const at = (address: string) => {
    const copy = new URL(url);
    copy.hostname = address.includes(':') ? `[${address}]` : address;
    return copy.toString();
  };
  const all = Object.values(network.interfaces).flatMap((list) => list ?? []);
  const usable = (internal: boolean) =>
    all
      .filter((info) => info.internal === internal && !(onlyIpv4 && info.family !== 'IPv4'))
      .filter((info) => !(info.family === 'IPv6' && /^fe80:/i.test(info.address)))
      .sort((a, b) => Number(a.family !== 'IPv4') - Number(b.family !== 'IPv4'))
      .map((info) => info.address);
  const external = usable(false);
  const addresses = external.length > 0 ? external : usable(true);
  const urls = [...new Set([...(network.hostname ? [at(network.hostname)] : []), ...addresses.map(at)])];
  return { urls, everyInterface: true };
}
