/**
 * The central-system process test/reliability/crash_spec.ts kills with SIGKILL. Run as
 * `node --require tsx/cjs cs-crash-child.ts <dataDirectory> <port>`: starts a CentralSystem with
 * its durable state in <dataDirectory> on 127.0.0.1:<port> (unknown chargers and every id tag
 * accepted), prints `listening <port>` once chargers can dial in, and serves them until killed.
 */
import { CentralSystem } from '../../../lib/ocpp/central-system';

async function main(): Promise<void> {
  const [dataDirectory, portText] = process.argv.slice(2);
  if (!dataDirectory || !portText) throw new Error('usage: cs-crash-child <dataDirectory> <port>');
  const cs = new CentralSystem({
    host: '127.0.0.1',
    port: Number(portText),
    dataDirectory,
    unknownChargePoints: 'accept',
    readConfigurationOnBoot: false,
    authorization: { policy: 'acceptAll' },
    pingIntervalS: 0,
    log: {
      info: () => undefined,
      warn: (message) => process.stdout.write(`warn ${message}\n`),
      error: (message) => process.stdout.write(`error ${message}\n`),
    },
  });
  cs.on('failed', (error: Error) => process.stdout.write(`failed ${error.message}\n`));
  await cs.start();
  process.stdout.write(`listening ${cs.port}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
