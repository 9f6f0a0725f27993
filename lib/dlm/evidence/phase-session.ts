/**
 * The switching part of a session record (`PhaseSession` in parts.ts) and what may be done with it:
 * whether the car's phases still settle after a switch, whether a connector may switch again
 * (`canSwitch`), the switch itself, a switch the car refused, and the energy tally of a pv car on
 * three phases. The observer reads it to count a switched connector on both phase sets until it
 * has settled and to tell a refused switch (evidence/observer.ts); the PV mode switches a car down
 * before it starts (modes/pv.ts); when to switch is the control stage's (control/phase-switching.ts).
 */
import type { Logger } from '../../log';
import type { ConnectorRuntime, EnergyTally, PhaseSession } from '../parts';
import type { Connector, Site } from '../site/model';
import { restartObservation } from './observations';
import { notUnderControl } from './uncontrolled';

/** Whether the connector's charger phases are still settling after a switch at `now`. */
export function settlingAfterSwitch(site: Site, session: PhaseSession, now: number): boolean {
  return session.switchedAtMs !== undefined && now - session.switchedAtMs < site.pv.phaseSwitchSettleMs;
}

/**
 * The car still draws on a phase it was switched off: the switch did not happen (a charger or car
 * that ignores it). Back to three phases, and no more switching this session.
 */
export function refuseSwitching(session: PhaseSession): void {
  session.onePhase = false;
  session.phaseSwitchRefused = true;
}

/**
 * The switches that count against `maxPhaseSwitchesPerSession`: all but one made before any
 * current was sent in the session (the car's first phases chosen before it charged: no charge
 * interrupted, no contactor opened under load). Under fast clouds that first choice took one of the
 * four, and the last switch up then had no way back down.
 */
export function countedSwitches(session: PhaseSession): number {
  return session.switches - Math.min(1, session.switchesBeforeCurrent ?? 0);
}

export function canSwitch(site: Site, connector: Connector, runtime: ConnectorRuntime): boolean {
  const session = runtime.session;
  if (!connector.canSwitchPhases || connector.phases !== 3) return false;
  if (session.phaseSwitchRefused) return false;
  // Nor one not under control (its limit failed, or it was caught ignoring it): a switch is a
  // charging profile too (numberPhases), which it does not take. Switched to one phase 1 s after
  // it was raised on three, a charger that refuses its limits was told so twice in a minute for
  // nothing, and counted on the one phase its car did not move to (faults seed 20261125 path 1604,
  // evidence/uncontrolled.ts uncontrolledConductors).
  if (notUnderControl(runtime)) return false;
  // A charger that reports its current without a phase cannot show that a switch to one phase was
  // made (evidence/draws.ts unphasedOn counts it on every wired phase): switched, it would be
  // counted on three and taken back to them at its next reading.
  if (runtime.draw?.unphased) return false;
  // Nor can an energy register: its delta is the same for one phase at 18 A and three at 6 A (the
  // observer takes such a charger back to three phases at its first delta, evidence/observer.ts).
  if (runtime.draw?.energy) return false;
  if (countedSwitches(session) >= site.pv.maxPhaseSwitchesPerSession) return false;
  // A car seen on a single phase while 3 were offered gains nothing from switching.
  if (!session.onePhase && session.confirmedPhases && session.confirmedPhases.length < 3) return false;
  return true;
}

export function switchPhases(
  site: Site,
  logger: Logger,
  connector: Connector,
  runtime: ConnectorRuntime,
  toOne: boolean,
  now: number,
  why?: string,
): void {
  const session = runtime.session;
  session.previousChargerPhases = session.onePhase ? [0] : (session.confirmedPhases ?? [0, 1, 2]);
  session.onePhase = toOne;
  if (!session.currentSent && (runtime.sent?.limitA ?? 0) <= 0)
    session.switchesBeforeCurrent = (session.switchesBeforeCurrent ?? 0) + 1;
  session.switches += 1;
  session.switchedAtMs = now;
  session.downSinceMs = undefined;
  session.upSinceMs = undefined;
  clearTally(session.downShort);
  restartObservation(session);
  logger.info(
    `connector ${connector.key}: switching to ${toOne ? 1 : 3} phase(s) (${countedSwitches(session)} of ${site.pv.maxPhaseSwitchesPerSession} this session${session.switchesBeforeCurrent ? ', one before the car charged not counted' : ''})${why ? `: ${why}` : ''}`,
  );
}

/**
 * Adds `w` (W) from now on to an energy tally and returns its total so far, Wh (see `EnergyTally`
 * in parts.ts). The power counted since the last call runs the total up (positive) or down
 * (negative, never below 0); at 0 with nothing more coming the tally is cleared.
 *
 * Its one use, `downShort`: a pv car on three phases whose minimum the surplus does not cover
 * takes the rest from the grid (or the home battery) until it is switched down. Under fast clouds
 * the surplus is back above the three-phase minimum every minute or two, so
 * `phaseSwitchDownDelayMs` of uninterrupted shortfall never came and the car imported for half an
 * hour in short pieces. It counts what the three-phase minimum took beyond the surplus since it
 * was first short, less what the surplus gave beyond it since: the switch down comes once it is
 * worth the one-phase minimum for the switch-down delay, however the clouds cut it up.
 */
export function tallyWh(tally: EnergyTally, w: number, now: number): number {
  if (tally.wms === undefined && w <= 0) return 0;
  const sinceMs = now - (tally.atMs ?? now);
  const total = Math.max(0, (tally.wms ?? 0) + (tally.w ?? 0) * sinceMs);
  if (total <= 0 && w <= 0) {
    clearTally(tally);
    return 0;
  }
  tally.wms = total;
  tally.w = w;
  tally.atMs = now;
  return total / 3_600_000;
}

export function clearTally(tally: EnergyTally): void {
  tally.wms = undefined;
  tally.w = undefined;
  tally.atMs = undefined;
}
