/**
 * Whether the chargers below a circuit fit under its limit when they all fall to their own
 * fallback at once (Node-RED stopped, or the network to them down): the offline fallback each
 * confirmed (ConnectorState.offlineFallback, bounded by its offlineA) is what it then draws with
 * nobody to lower it. The summary names a circuit where they do not fit (a runtime check: the
 * fallbacks are the charging-profile node's, known once the chargers confirm them).
 */
import { namesInShort } from './pending-decreases';
import { GRID_PHASES, triple } from './phases';
import type { ConnectorRuntimes } from './runtime';
import { round1 } from './site-fields';
import type { Circuit, Site } from './site-model';

export function offlineFallbacksProblem(
  site: Site,
  circuit: Circuit,
  runtimes: ConnectorRuntimes,
): string | undefined {
  const onPhase = triple(0);
  const counted: string[] = [];
  const amps = new Set<number>();
  for (const k of circuit.connectorIndexes) {
    const connector = site.connectors[k];
    const fallback = connector && runtimes.of(connector).state?.offlineFallback;
    if (!connector || !fallback) continue;
    const drawsA = Math.min(fallback.limitA, connector.offlineA, connector.maxA);
    if (drawsA <= 0) continue;
    counted.push(connector.key);
    amps.add(drawsA);
    const used = connector.phases === 1 ? [connector.gridPhaseOf[0]] : GRID_PHASES;
    for (const p of used) onPhase[p] += drawsA;
  }
  const phase = GRID_PHASES.find((p) => onPhase[p] > circuit.limitA[p] - circuit.headroomA[p] + 1e-9);
  if (phase === undefined) return undefined;
  const each = amps.size === 1 ? `${[...amps][0]} A each` : 'their own amps';
  const available = round1(circuit.limitA[phase] - circuit.headroomA[phase]);
  return `${circuit.name}: if the chargers lost ampflow at once, the offline fallbacks they confirmed (${namesInShort(counted)}: ${each}) would draw ${round1(onPhase[phase])} A on L${phase + 1}, above the ${available} A available; lower the charging-profile node's offline fallback, or feed fewer chargers from it`;
}
