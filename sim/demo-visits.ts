import type { Clock, TimerHandle } from '../lib/clock';
import type { SimulatedChargePoint } from './charge-point';
import { type EvOptions, SimulatedEv } from './ev';

export const DAY_MS = 24 * 3600_000;

/** One connector of the demo car park and the cars that visit it. */
export interface ConnectorRun {
  cp: SimulatedChargePoint;
  connectorId: number;
  key: string;
  index: number;
  random: () => number;
  timer?: TimerHandle;
  visits: number;
  started: boolean;
}

/** What the visits need from the demo site (sim/demo-site.ts). */
export interface VisitsHost {
  readonly clock: Clock;
  /** Simulated milliseconds per real one. */
  readonly speed: number;
  log(line: string): void;
  running(): boolean;
  /** Simulated milliseconds since midnight of the first day. */
  simulatedMs(): number;
  /** `HH:MM` of a simulated time. */
  timeOfDay(simulatedMs?: number): string;
  /** Recomputes the site's flows and what the meters serve. */
  tick(): void;
}

/**
 * The cars of the demo car park: each connector gets its first car in the morning rush after its
 * charger is accepted, then cars arrive, plug in, start a session, stay a while and leave, each on
 * the connector's seeded random sequence.
 */
export class DemoVisits {
  readonly runs: ConnectorRun[] = [];

  constructor(private readonly host: VisitsHost) {}

  add(cp: SimulatedChargePoint, connectorId: number, key: string, random: () => number): void {
    this.runs.push({ cp, connectorId, key, index: this.runs.length, random, visits: 0, started: false });
  }

  /** Logs what `cp` does, starts its visits once it is accepted, and has the meters follow its profiles. */
  watch(cp: SimulatedChargePoint): void {
    cp.on('boot', (boot) => {
      this.host.log(`${cp.identity} registered: ${boot.status}`);
      if (boot.status === 'Accepted') this.accepted(cp);
    });
    cp.on('replied', (reply) => {
      if (reply.action !== 'SetChargingProfile' && reply.action !== 'ClearChargingProfile') return;
      // The charger applied the profile before answering: what it offers now follows it.
      this.host.tick();
      if (reply.action !== 'SetChargingProfile') return;
      const request = reply.request;
      const profile = request.csChargingProfiles;
      const period = profile.chargingSchedule.chargingSchedulePeriod[0];
      const connectors =
        request.connectorId === 0
          ? Array.from({ length: cp.connectorCount }, (_, i) => i + 1)
          : [request.connectorId];
      const offers = connectors
        .map((id) => `${cp.identity}/${id} offers ${cp.connector(id).offeredA.toFixed(1)} A`)
        .join(', ');
      this.host.log(
        `${cp.identity}: SetChargingProfile ${profile.chargingProfilePurpose} on connector ${request.connectorId}, ${period?.limit ?? '?'} ${profile.chargingSchedule.chargingRateUnit}${period?.numberPhases ? ` on ${period.numberPhases} phase(s)` : ''}: ${reply.response?.status ?? reply.error?.message}; ${offers}`,
      );
    });
    cp.on('disconnected', ({ code }) => {
      if (this.host.running()) this.host.log(`${cp.identity} lost its connection (${code}); reconnecting`);
    });
    cp.on('sent', (sent) => {
      if (sent.action === 'StatusNotification') this.host.tick();
    });
  }

  /** `cp` was accepted: the first cars of its connectors come within the first simulated half hour. */
  accepted(cp: SimulatedChargePoint): void {
    for (const run of this.runs) {
      if (run.cp !== cp || run.started) continue;
      run.started = true;
      // The morning rush: the first cars come within the first simulated half hour.
      this.scheduleArrival(run, this.host.simulatedMs() + (run.index * 4 + run.random() * 6) * 60_000);
    }
  }

  stop(): void {
    for (const run of this.runs) this.host.clock.clearTimeout(run.timer);
  }

  private at(simulatedMs: number, callback: () => void): TimerHandle {
    const delayMs = Math.max(0, (simulatedMs - this.host.simulatedMs()) / this.host.speed);
    return this.host.clock.setTimeout(callback, Math.round(delayMs));
  }

  private scheduleArrival(run: ConnectorRun, simulatedMs: number): void {
    if (!this.host.running()) return;
    run.timer = this.at(simulatedMs, () => void this.arrive(run));
  }

  private async arrive(run: ConnectorRun): Promise<void> {
    const host = this.host;
    if (!host.running()) return;
    run.visits += 1;
    const now = host.simulatedMs();
    const hour = (now % DAY_MS) / 3600_000;
    const random = run.random;
    const car = demoCar(random, host.speed);
    const idTag = `TAG-${String(1 + Math.floor(random() * 99_999)).padStart(5, '0')}`;
    // Commuters stay the working day, evening arrivals stay the night, others a few hours.
    const stayHours =
      hour >= 5 && hour < 10
        ? 6 + random() * 4
        : hour >= 17 && hour < 23
          ? random() < 0.6
            ? 31 + random() * 2 - hour
            : 1 + random() * 2
          : 1 + random() * 3;
    const leaveAt = now + stayHours * 3600_000;
    const connector = run.cp.connector(run.connectorId);
    if (connector.ev || connector.transaction || !['Available', 'Preparing'].includes(connector.status)) {
      host.log(`${host.timeOfDay()} a car finds ${run.key} ${connector.status} and drives on`);
      this.scheduleArrival(run, now + 30 * 60_000);
      return;
    }
    const ev = new SimulatedEv({ ...car, name: `${run.key}#${run.visits}` });
    run.cp.plugIn(run.connectorId, ev);
    host.log(
      `${host.timeOfDay()} a car plugs into ${run.key}: ${car.phases === 1 ? 'single-phase' : 'three-phase'}, up to ${car.maxCurrentA} A, ${car.socPercent} % full; leaves at ${host.timeOfDay(leaveAt)}`,
    );
    const startWh = run.cp.connector(run.connectorId).energyWh;
    let started = false;
    try {
      await run.cp.startTransaction(run.connectorId, idTag);
      started = true;
      host.log(`${host.timeOfDay()} ${run.key}: session started for ${idTag}`);
    } catch (err) {
      host.log(`${host.timeOfDay()} ${run.key}: session refused (${(err as Error).message})`);
    }
    if (!host.running()) return;
    run.timer = this.at(leaveAt, () => {
      if (!host.running()) return;
      const state = run.cp.connector(run.connectorId);
      if (started && state.transaction) void run.cp.stopTransaction(run.connectorId, 'Local').catch(() => {});
      if (run.cp.connector(run.connectorId).ev) run.cp.unplug(run.connectorId);
      const energyWh = state.energyWh - startWh;
      host.log(
        `${host.timeOfDay()} the car on ${run.key} leaves, ${ev.socPercent.toFixed(0)} % full (${(energyWh / 1000).toFixed(2)} kWh in real time)`,
      );
      const nextHour = (host.simulatedMs() % DAY_MS) / 3600_000;
      // Busy in the morning and evening, quiet at night.
      const meanGapMinutes = nextHour >= 6 && nextHour < 21 ? 45 : 240;
      const gapMs = -Math.log(1 - random()) * meanGapMinutes * 60_000;
      this.scheduleArrival(run, host.simulatedMs() + Math.max(5 * 60_000, gapMs));
    });
  }
}

/**
 * A car as found in a European car park. Its battery is shrunk by the day's compression, so that
 * it fills up over the simulated day as a real one would over a real day.
 */
function demoCar(
  random: () => number,
  speed: number,
): Required<Omit<EvOptions, 'name' | 'targetSocPercent' | 'overshootPercent'>> {
  const singlePhase = random() < 0.25;
  const capacities = [40, 50, 58, 64, 77, 100];
  const capacityKWh = capacities[Math.floor(random() * capacities.length)] ?? 60;
  return {
    capacityKWh: capacityKWh / speed,
    socPercent: Math.round(15 + random() * 55),
    phases: singlePhase ? 1 : 3,
    maxCurrentA: singlePhase ? (random() < 0.5 ? 16 : 32) : random() < 0.6 ? 16 : 32,
    minCurrentA: 6,
    followDelayMs: 1000,
  };
}
