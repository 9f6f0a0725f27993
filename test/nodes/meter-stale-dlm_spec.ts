import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';

import dlmNode = require('../../nodes/ampflow-dlm');
import meterNode = require('../../nodes/ampflow-meter');
import modbusBusNode = require('../../nodes/ampflow-modbus-bus');

import type { SiteSummary } from '../../lib/dlm/report/summary';
import type { SiteConfig } from '../../lib/dlm/site';
import { waitFor } from '../support/events';
import { nodeRedVersion } from '../support/node-red';
import { freePort } from '../support/ports';
import { type RunningProcess, run } from '../support/process';
import { CATCH_ALL, onTab, tcpBusConfig, useHelperServer } from './fixtures';

/**
 * Issue 36 item 3, end to end: a real Node-RED with a Modbus bus, a meter and a load manager with
 * the shipped defaults (poll 1 s, the meter's stale after 3 s, the circuit's 30 s), the meter
 * read from a Modbus TCP server ampflow did not write (Debian's python3-pymodbus as an Eastron
 * SDM630, test/unit/peers/pymodbus-sdm630.py). The server is killed (SIGKILL: no goodbye but the
 * kernel's): the circuit must be on its fail-safe within 5 s, not after the load manager's own
 * 30 s stale timer.
 */
const PYTHON = '/usr/bin/python3';
const SERVER = join(__dirname, '..', 'unit', 'peers', 'pymodbus-sdm630.py');

interface Msg<T> {
  topic: string;
  payload: T;
}

describe(`a meter whose Modbus server dies, with a load manager (Node-RED ${nodeRedVersion()})`, () => {
  let server: RunningProcess | undefined;
  useHelperServer();
  afterEach(async () => {
    await server?.stop('SIGKILL');
    server = undefined;
  });

  it('puts its circuit on the fail-safe within 5 s of the server being killed, and says why', async () => {
    assert.ok(existsSync(PYTHON), `${PYTHON} is missing: apt-get install python3 python3-pymodbus`);
    const port = await freePort();
    server = run(PYTHON, [SERVER, String(port)]);
    await server.waitForLine(/^ready$/, 20_000);
    const site: SiteConfig = {
      circuits: [
        { id: 'zone', limitA: 63, meter: { node: 'meter', source: 'grid', location: 'otherLoadsOnly' } },
      ],
      connectors: [{ chargePointId: 'CP-1', circuit: 'zone' }],
    };
    await helper.load(
      [modbusBusNode, meterNode, dlmNode],
      onTab(
        tcpBusConfig(port),
        // Shipped defaults: nothing set but the model.
        {
          id: 'meter',
          type: 'ampflow-meter',
          name: 'grid',
          bus: 'bus',
          profile: 'eastron-sdm630',
          wires: [['dlm']],
        },
        { id: 'dlm', type: 'ampflow-dlm', site: JSON.stringify(site), wires: [[], ['summary']] },
        { id: 'summary', type: 'helper' },
        ...CATCH_ALL,
      ),
    );
    const summaries = helper.getNode('summary');
    const zone = (msg: Msg<SiteSummary>) => msg.payload.circuits[0];
    const [reading] = await waitFor<[Msg<SiteSummary>]>(
      summaries,
      'input',
      (msg: Msg<SiteSummary>) => zone(msg)?.meter?.stale === false,
      20_000,
    );
    assert.deepEqual(zone(reading)?.meter?.measuredA, [10.5, 0, 3.2], 'the pymodbus meter is read');

    const fallback = waitFor<[Msg<SiteSummary>]>(
      summaries,
      'input',
      (msg: Msg<SiteSummary>) => zone(msg)?.fallback !== undefined,
      5000,
    );
    const killedAt = performance.now();
    server.child.kill('SIGKILL');
    const [onFallback] = await fallback;
    const afterMs = Math.round(performance.now() - killedAt);
    console.log(`      on the fail-safe ${afterMs} ms after the Modbus server was killed`);
    assert.match(
      zone(onFallback)?.fallback ?? '',
      /^fallback: meter "grid" of zone reports it is stale \(connection to tcp:\/\/127\.0\.0\.1:\d+ lost \(.*\)\), other loads counted at /,
    );
    assert.equal(zone(onFallback)?.meter?.stale, true);
    // The meter's own 3 s timer could not have fired before 2 s (it read at most 1 s before the
    // kill): the closed socket was the news.
    assert.ok(afterMs < 2000, `${afterMs} ms`);
  });
});
