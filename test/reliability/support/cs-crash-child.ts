/**
 * The central-system process test/reliability/crash_spec.ts kills with SIGKILL. Run as
 * `node --require tsx/cjs cs-crash-child.ts <dataDirectory> <port>`: starts a CentralSystem with
 * its durable state in <dataDirectory> on 127.0.0.1:<port> (unknown chargers and every id tag
 * accepted), prints `listening <port>` once chargers can dial in, and serves them until killed.
 */
import { crashCentralSystem, print } from './crash-central-system';

async function main(): Promise<void> {
  const [dataDirectory, portText] = process.argv.slice(2);
  if (!dataDirectory || !portText) throw new Error('usage: cs-crash-child <dataDirectory> <port>');
  const cs = crashCentralSystem(dataDirectory, Number(portText));
  await cs.start();
  print(`listening ${cs.port}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
