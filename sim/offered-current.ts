import { IEC_61851_MINIMUM_A } from '../lib/electrical';
import type { ConnectorView } from '../lib/ocpp/charging-profiles';
import type { ConfigurationStore } from './configuration';
import type { Connector } from './connectors';
import { GRID_PHASES } from './metering';
import type { VendorProfileStore } from './vendor-profile-store';

/**
 * The current the charge point offers each connector under its installed charging profiles, and
 * what the EV plugged in draws of it on each grid phase. The station (station.ts) decides when to
 * evaluate it and arms its timers; this says what is offered.
 */

/** What holds for every connector at one evaluation: the time, the profiles, the shared limit. */
export interface StationOffer {
  readonly now: number;
  readonly voltageV: number;
  readonly profiles: VendorProfileStore;
  /** The ChargePointMaxProfile's current now, A; undefined without one. */
  readonly chargePointMaxA: number | undefined;
  /** Connectors whose EV takes current (a transaction, not faulted, authorized, not full). */
  readonly demanding: number;
  /** Whether a TxProfile's numberPhases switches the connector (ConnectorSwitch3to1PhaseSupported). */
  readonly switchPhases: boolean;
}

export function stationOffer(
  connectors: readonly Connector[],
  profiles: VendorProfileStore,
  configuration: ConfigurationStore,
  now: number,
  voltageV: number,
): StationOffer {
  return {
    now,
    voltageV,
    profiles,
    chargePointMaxA: profiles.chargePointLimitAt(now, voltageV, now)?.currentA,
    demanding: connectors.filter(
      (c) => c.transaction && c.ev && !c.fault && !c.transaction.deauthorized && !c.ev.full,
    ).length,
    switchPhases: configuration.bool('ConnectorSwitch3to1PhaseSupported', false),
  };
}

/** Sets `c.offeredA` under the profiles and `c.currentA` to what its EV draws of it, per grid phase. */
export function offerTo(c: Connector, view: ConnectorView, offer: StationOffer): void {
  const { now, voltageV, chargePointMaxA } = offer;
  let offeredA = 0;
  let phases: number = c.phases;
  if (c.transaction && !c.fault && !c.transaction.deauthorized) {
    const tx = offer.profiles.transactionLimitAt(view, now, voltageV, now);
    offeredA = Math.min(c.maxCurrentA, tx?.currentA ?? Number.POSITIVE_INFINITY);
    // 3.13.3: all connectors together stay within the ChargePointMaxProfile; it is shared equally.
    if (chargePointMaxA !== undefined)
      offeredA = Math.min(offeredA, chargePointMaxA / Math.max(1, offer.demanding));
    if (offer.switchPhases && tx?.numberPhases !== undefined) phases = Math.min(phases, tx.numberPhases);
    offeredA = Math.max(0, Math.floor(offeredA * 10) / 10);
  }
  c.offeredA = offeredA;
  const draw =
    c.ev && c.transaction && offeredA >= IEC_61851_MINIMUM_A
      ? c.ev.draw(offeredA, phases)
      : { currentA: 0, phases: 0 };
  c.currentA = [0, 0, 0];
  for (let i = 0; i < draw.phases; i++) {
    const phase = c.gridPhases[i] ?? 'L1';
    c.currentA[GRID_PHASES.indexOf(phase)] = draw.currentA;
  }
}
