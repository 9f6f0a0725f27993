import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { dialAddresses } from '../../../lib/ocpp/dial-addresses';

const v4 = (address: string, internal = false): NetworkInterfaceInfo => ({
  address,
  netmask: '255.255.255.0',
  family: 'IPv4',
  mac: '00:00:00:00:00:00',
  internal,
  cidr: null,
});
const v6 = (address: string, internal = false): NetworkInterfaceInfo => ({
  address,
  netmask: 'ffff:ffff:ffff:ffff::',
  family: 'IPv6',
  mac: '00:00:00:00:00:00',
  internal,
  cidr: null,
  scopeid: 0,
});

/** A Raspberry Pi on a LAN: loopback, Ethernet with IPv4, a global and a link-local IPv6. */
const pi = {
  hostname: 'node-red-pi',
  interfaces: {
    lo: [v4('127.0.0.1', true), v6('::1', true)],
    eth0: [v6('fe80::1'), v4('192.168.2.10'), v6('2001:db8::10')],
  },
};

describe('where chargers dial the central system (issue 38)', () => {
  it('names the host and its addresses, not [::], when listening on every interface', () => {
    assert.deepEqual(dialAddresses('ws://[::]:31010/', pi), {
      urls: ['ws://node-red-pi:31010/', 'ws://192.168.2.10:31010/', 'ws://[2001:db8::10]:31010/'],
      everyInterface: true,
    });
  });

  it('keeps to IPv4 for 0.0.0.0, and keeps TLS and the path', () => {
    assert.deepEqual(dialAddresses('wss://0.0.0.0:9443/ocpp/', pi).urls, [
      'wss://node-red-pi:9443/ocpp/',
      'wss://192.168.2.10:9443/ocpp/',
    ]);
  });

  it('falls back to loopback on a machine without a network', () => {
    const alone = { hostname: '', interfaces: { lo: [v4('127.0.0.1', true)] } };
    assert.deepEqual(dialAddresses('ws://[::]:9000/', alone).urls, ['ws://127.0.0.1:9000/']);
  });

  it('leaves a server bound to one address as it is', () => {
    assert.deepEqual(dialAddresses('ws://192.168.2.10:9000/', pi), {
      urls: ['ws://192.168.2.10:9000/'],
      everyInterface: false,
    });
  });
});
