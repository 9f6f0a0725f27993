import fc from 'fast-check';
import type { CircuitConfig, Triple } from '../../lib/dlm/site';

/**
 * Pieces of the random sites the load manager's closed-loop properties share
 * (closed-loop-property.ts, uncontrolled-properties_spec.ts): a tree of one to three circuits.
 */

/** Three circuits' limits per phase, each phase in [min, max] A. */
export function limitsArbitrary(min: number, max: number): fc.Arbitrary<Triple[]> {
  const phase = fc.integer({ min, max });
  return fc.array(fc.tuple(phase, phase, phase), { minLength: 3, maxLength: 3 });
}

/** Circuit i of `1 + children`: c0 is the root; with two children c2 hangs below c1, else below c0. */
export function parentOf(i: number, children: number): Pick<CircuitConfig, 'parent'> {
  return i === 0 ? {} : { parent: i === 2 && children === 2 ? 'c1' : 'c0' };
}

/**
 * Declares each metered circuit's fallback as an installer would: the other loads of its subtree
 * at their highest (`highest(id)` per phase, A), rounded up.
 */
export function declareFallbacks(circuits: CircuitConfig[], highest: (id: string) => Triple): void {
  const subtree = (id: string): string[] => [
    id,
    ...circuits.filter((c) => c.parent === id).flatMap((c) => subtree(c.id)),
  ];
  for (const circuit of circuits) {
    if (!circuit.meter) continue;
    const most: Triple = [0, 0, 0];
    for (const id of subtree(circuit.id)) {
      const loads = highest(id);
      for (const p of [0, 1, 2] as const) most[p] += loads[p] ?? 0;
    }
    circuit.fallback = { otherLoadA: most.map((v) => Math.ceil(v)) as Triple };
  }
}
