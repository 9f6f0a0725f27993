import type { Clock } from '../lib/clock';
import type { Fleet } from './fleet';

/**
 * `ampflow-sim`'s line per notable event (sim/cli.ts): connections, registrations, commands
 * and sessions of the fleet, each stamped with the time since `startedMs`.
 */
export function printFleetEvents(
  fleet: Fleet,
  clock: Clock,
  startedMs: number,
  out: (line: string) => void,
): void {
  const stamp = () => {
    const s = Math.round((clock.now() - startedMs) / 1000);
    return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  };
  const print = (line: string) => out(`${stamp()} ${line}`);
  fleet.on('chargePoint', ({ identity, kind, detail }) => {
    const text: Record<typeof kind, string> = {
      connected: `connected (${detail})`,
      disconnected: `disconnected (${detail})`,
      connectFailed: `cannot connect: ${detail}`,
      boot: `BootNotification ${detail}`,
      command: `<- ${detail}`,
      rebooting: `rebooting: ${detail}`,
    };
    print(`${identity} ${text[kind]}`);
  });
  fleet.on('session', (event) => {
    const where = `${event.identity}/${event.connectorId}`;
    const car = `${event.ev.capacityKWh} kWh at ${Math.round(event.ev.socPercent)} %, ${event.ev.phases} x ${event.ev.maxCurrentA} A`;
    switch (event.kind) {
      case 'arrived':
        return print(`${where} car arrives (${car})`);
      case 'started':
        return print(`${where} transaction started for ${event.idTag}`);
      case 'refused':
        return print(`${where} no transaction for ${event.idTag}: ${event.reason ?? ''}`);
      case 'stopped':
        return print(`${where} transaction stopped, ${((event.energyWh ?? 0) / 1000).toFixed(2)} kWh`);
      default:
        return print(`${where} car leaves`);
    }
  });
}
