/**
 * The operator's backend for bench:upstream in a process of its own (so that its CPU is not counted
 * in the central system's): test/support/upstream-backend.ts, a bare ocpp-rpc server in strict mode.
 * Forked by bench/support/backend.ts with `--import tsx`.
 *
 * It notes when each MeterValues reached its handler (process.hrtime, CLOCK_MONOTONIC: the same
 * clock in every process of the machine), by charger and energy register, so the load client can
 * tell how long a charger's MeterValues took to reach the backend.
 *
 * IPC: 'counts' (calls per action, chargers connected), 'arrivals' (the MeterValues noted since the
 * last 'arrivals': [identity, energy register, µs]), 'stop'. The child sends { type: 'ready', url }.
 */
import { UpstreamBackend } from '../../test/support/upstream-backend';

type Arrival = [identity: string, energy: string, atUs: number];

async function main(): Promise<void> {
  const backend = new UpstreamBackend();
  const counts: Record<string, number> = {};
  let arrivals: Arrival[] = [];
  backend.on(
    'call',
    ({ identity, action, params }: { identity: string; action: string; params: Record<string, unknown> }) => {
      const atUs = Number(process.hrtime.bigint() / 1000n);
      counts[action] = (counts[action] ?? 0) + 1;
      // The backend records every call for the tests; a bench run would only grow its memory.
      backend.calls.length = 0;
      if (action !== 'MeterValues') return;
      const sampled = (params.meterValue as { sampledValue: { value: string }[] }[] | undefined)?.[0]
        ?.sampledValue?.[0]?.value;
      arrivals.push([identity, String(sampled), atUs]);
    },
  );
  await backend.start();
  const send = (message: unknown) => process.send?.(message);
  process.on('message', (message: string) => {
    if (message === 'counts') {
      send({
        type: 'counts',
        counts: { ...counts, clients: backend.clients.size, badMessages: backend.badMessages.length },
      });
    } else if (message === 'arrivals') {
      send({ type: 'arrivals', arrivals, badMessages: backend.badMessages.slice(0, 3) });
      arrivals = [];
    } else if (message === 'stop') {
      void backend.stop().finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
  // Where a proxy dials: `{identity}` is replaced by each charger's identity.
  send({ type: 'ready', url: backend.url });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
