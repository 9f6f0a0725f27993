/**
 * The simulator's own physics of the line conductors (not the load manager's model, which the
 * closed-loop properties check against it): which conductors a charger's currents flow on, and
 * the power per ampere, on TN and IT networks (lib/dlm/phases.ts `Network`).
 */
import type { Site, Triple } from '../lib/dlm/site';

/**
 * Adds a charger's currents to the conductors they flow on. TN: each charger phase is its conductor to the neutral. IT (3×230 V, no
 * neutral): a charger that draws on one phase alone is connected between two conductors, its L1
 * and the next of its rotation (L1→L2), and both carry its current; one that draws on all three
 * carries each phase's current on its conductor. (Magnitudes add arithmetically here, as they do
 * for the other loads: an upper bound of the phasor sum, so the property is at least as strict as
 * a real site.)
 */
export function addConductors(target: Triple, connector: Site['connectors'][number], chargerA: Triple): void {
  const drawing = [0, 1, 2].filter((i) => (chargerA[i] ?? 0) > 0);
  if (connector.network === 'IT' && drawing.length === 1) {
    const i = drawing[0] ?? 0;
    const amps = chargerA[i] ?? 0;
    target[connector.gridPhaseOf[i as 0 | 1 | 2] ?? 0] += amps;
    target[connector.gridPhaseOf[((i + 1) % 3) as 0 | 1 | 2] ?? 0] += amps;
    return;
  }
  for (let i = 0; i < 3; i++) target[connector.gridPhaseOf[i] ?? 0] += chargerA[i] ?? 0;
}

/**
 * Power per ampere of a car drawing on `phases` phases, W/A. TN: phases × line-to-neutral. IT
 * (site.voltageV is the line-to-line voltage / √3 there): one phase is one line-to-line voltage
 * (230 V), three are √3 × line-to-line (398 V at 3×230 V).
 */
export function wattsPerA(site: Pick<Site, 'network' | 'voltageV'>, phases: number): number {
  if (site.network === 'IT' && phases === 1) return site.voltageV * Math.sqrt(3);
  return phases * site.voltageV;
}
