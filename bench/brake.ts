/**
 * The password brake under a flood, in real time: how many guesses for one charger's password the
 * central system compares per second, against the documented rate (docs/security.md: 3 at once, then
 * 1 s, 2 s, 4 s ... 30 s apart). Each scenario floods for `--seconds` of wall time with
 * `--concurrency` guesses in flight, on a CentralSystem (security profile 1, the system clock) in
 * this process, real `ws` clients on loopback:
 *
 * - one address, and `--fillers` sockets (a list) for made-up identities kept open from the same
 *   address, re-sent as they are answered, so that the address stays full;
 * - `--addresses` addresses (127.0.1.x) sharing the guesses, no fillers.
 *
 * Printed per scenario: guesses sent and answered per second, passwords compared (checks) and
 * checks per second for the charger, the most the documented rate allows in that time, and whether
 * the charger got in with its right password from its own address during the flood.
 *
 *   npm run bench:brake -- [--seconds 20] [--concurrency 200] [--fillers 72,200] [--addresses 100]
 */
import { WebSocket } from 'ws';
import { CentralSystem } from '../lib/ocpp/central-system';
import { PasswordBook } from '../lib/ocpp/passwords';
import { checksAllowedWithin } from '../test/support/brake-rate';
import { machineLine } from './support/machine';
import { benchOptions } from './support/options';

const { seconds, concurrency, fillers, addresses } = benchOptions(
  {
    seconds: 20,
    concurrency: 200,
    fillers: [72, 200],
    addresses: 100,
  },
  { seconds: 2, concurrency: 20, fillers: 4, addresses: 3 },
);

const RIGHT = '0123456789abcdef0123';
const PASSWORDS = PasswordBook.parse(`CP-1 ${RIGHT}`);

/** One handshake: resolves with the HTTP status (101 when it got in), 0 when the socket failed. */
function handshake(port: number, identity: string, password: string, localAddress: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/${identity}`, ['ocpp1.6'], {
      localAddress,
      headers: { Authorization: `Basic ${Buffer.from(`${identity}:${password}`).toString('base64')}` },
    });
    ws.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.close();
    });
    ws.once('error', () => resolve(0));
  });
}

interface Result {
  label: string;
  sent: number;
  answered: number;
  checks: number;
  elapsedMs: number;
  chargerStatus: number;
}

async function scenario(label: string, fillerCount: number, guessAddresses: string[]): Promise<Result> {
  const cs = new CentralSystem({
    host: '127.0.0.1',
    port: 0,
    securityProfile: 1,
    passwords: PASSWORDS,
    unknownChargePoints: 'reject',
    readConfigurationOnBoot: false,
    log: { info() {}, warn() {}, error() {} },
  });
  await cs.start();
  const port = cs.port as number;
  let checks = 0;
  cs.on('refused', (r: { identity: string; reason: string }) => {
    if (r.identity === 'CP-1' && r.reason === 'wrong password') checks++;
  });
  // The charger was accepted from its own address before the flood.
  await handshake(port, 'CP-1', RIGHT, '127.0.0.1');
  const startMs = performance.now();
  const endMs = startMs + seconds * 1000;
  let sent = 0;
  let answered = 0;
  let junk = 0;
  const running = () => performance.now() < endMs;
  const filler = async () => {
    while (running()) await handshake(port, `X-${junk++}`, 'guess-guess-guess', guessAddresses[0] as string);
  };
  const guesser = async (lane: number) => {
    for (let i = 0; running(); i++) {
      sent++;
      await handshake(
        port,
        'CP-1',
        `guess-${lane}-${i}`,
        guessAddresses[(lane + i) % guessAddresses.length] as string,
      );
      answered++;
    }
  };
  const lanes = [
    ...Array.from({ length: fillerCount }, () => filler()),
    ...Array.from({ length: concurrency }, (_, lane) => guesser(lane)),
  ];
  // Halfway, the charger comes back from its own address with its password.
  await new Promise((resolve) => setTimeout(resolve, (seconds * 1000) / 2));
  const chargerStatus = await handshake(port, 'CP-1', RIGHT, '127.0.0.1');
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, endMs - performance.now())));
  const elapsedMs = performance.now() - startMs;
  const checksInFlood = checks;
  await cs.stop(); // answers what is still held back
  await Promise.all(lanes);
  return { label, sent, answered, checks: checksInFlood, elapsedMs, chargerStatus };
}

async function main() {
  console.log(machineLine());
  console.log(
    `bench:brake: ${seconds} s per scenario, ${concurrency} guesses in flight, security profile 1, system clock`,
  );
  const results: Result[] = [];
  for (const count of fillers)
    results.push(await scenario(`1 address, ${count} filler sockets`, count, ['127.0.0.2']));
  results.push(
    await scenario(
      `${addresses} addresses, no fillers`,
      0,
      Array.from({ length: addresses }, (_, i) => `127.0.1.${i + 1}`),
    ),
  );
  console.log(
    '| scenario | guesses sent | answered/s | passwords compared | compared/s for the charger | documented rate allows | charger from its own address |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of results) {
    const s = r.elapsedMs / 1000;
    console.log(
      `| ${r.label} | ${r.sent} | ${(r.answered / s).toFixed(0)} | ${r.checks} | ${(r.checks / s).toFixed(2)} | ${checksAllowedWithin(r.elapsedMs)} | ${r.chargerStatus === 101 ? 'got in' : `HTTP ${r.chargerStatus}`} |`,
    );
  }
  const over = results.filter((r) => r.checks > checksAllowedWithin(r.elapsedMs));
  if (over.length > 0) {
    console.log(`OVER THE DOCUMENTED RATE: ${over.map((r) => r.label).join(', ')}`);
    process.exitCode = 1;
  }
}

void main();
