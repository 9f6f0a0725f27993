/**
 * The ampflow process test/reliability/crash-upstream_spec.ts kills with SIGKILL: a central system
 * with the upstream proxy (keep the operator's backend). Run as
 * `node --require tsx/cjs upstream-crash-child.ts <dataDirectory> <port> <upstreamUrl>`: starts a
 * CentralSystem with its durable state in <dataDirectory> on 127.0.0.1:<port> (unknown chargers
 * and every id tag accepted) and an UpstreamProxy to <upstreamUrl>, whose clock is a ManualClock
 * the test moves by writing `advance <ms>` lines to stdin. Prints `listening <port>` once chargers
 * can dial in, then the proxy's events (`link <id> <state> <queued>`, `replayed <id> <action>`,
 * `drained <id>`) and every warning and error (`warn ...`, `error ...`).
 */
import { createInterface } from 'node:readline';
import { ManualClock } from '../../../lib/clock';
import { UpstreamProxy } from '../../../lib/upstream/proxy';
import { parseUpstreamSettings } from '../../../lib/upstream/settings';
import { crashCentralSystem, printingLog as log, print } from './crash-central-system';

async function main(): Promise<void> {
  const [dataDirectory, portText, upstreamUrl] = process.argv.slice(2);
  if (!dataDirectory || !portText || !upstreamUrl)
    throw new Error('usage: upstream-crash-child <dataDirectory> <port> <upstreamUrl>');
  const cs = crashCentralSystem(dataDirectory, Number(portText));
  const clock = new ManualClock(Date.now());
  const proxy = new UpstreamProxy(cs, parseUpstreamSettings({ url: upstreamUrl }), { clock, log });
  proxy.on(
    'link',
    ({ chargePointId, state, queued }: { chargePointId: string; state: string; queued: number }) =>
      print(`link ${chargePointId} ${state} ${queued}`),
  );
  proxy.on('replayed', ({ chargePointId, action }: { chargePointId: string; action: string }) =>
    print(`replayed ${chargePointId} ${action}`),
  );
  proxy.on('drained', ({ chargePointId }: { chargePointId: string }) => print(`drained ${chargePointId}`));
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [command, value] = line.trim().split(' ');
    if (command === 'advance') {
      clock.advance(Number(value));
      print(`advanced ${value}`);
    }
  });
  await cs.start();
  print(`listening ${cs.port}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
