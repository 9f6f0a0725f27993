/**
 * OCPP 2.0.1 meter values in the shared shapes: a 2.0.1 sampled value is a number with a unit of
 * measure (unit and a power-of-ten multiplier); the shared model reads the 1.6 form, a decimal
 * string in a fixed unit. Measurands, phases, contexts and locations are spelt alike in both.
 */

interface UnitOfMeasure201 {
  unit?: string;
  multiplier?: number;
}

export interface SampledValue201 {
  value: number;
  context?: string;
  measurand?: string;
  phase?: string;
  location?: string;
  unitOfMeasure?: UnitOfMeasure201;
}

export interface MeterValue201 {
  timestamp: string;
  sampledValue: SampledValue201[];
}

interface SampledValue16 {
  value: string;
  context?: string;
  measurand?: string;
  phase?: string;
  location?: string;
  unit?: string;
}

export interface MeterValue16 {
  timestamp: string;
  sampledValue: SampledValue16[];
}

/** Unit names 2.0.1 chargers use (ASU or common spellings) for a 1.6 unit. */
const UNIT_ALIASES: Record<string, string> = { Celcius: 'Celsius', '%': 'Percent', kw: 'kW', kwh: 'kWh' };

export function meterValuesTo16(values: readonly MeterValue201[]): MeterValue16[] {
  return values.map((value) => ({
    timestamp: value.timestamp,
    sampledValue: value.sampledValue.map(sampledValueTo16),
  }));
}

function sampledValueTo16(sampled: SampledValue201): SampledValue16 {
  const multiplier = sampled.unitOfMeasure?.multiplier ?? 0;
  const scaled = multiplier === 0 ? sampled.value : sampled.value * 10 ** multiplier;
  const out: SampledValue16 = { value: String(roundDecimal(scaled)) };
  if (sampled.context !== undefined) out.context = sampled.context;
  if (sampled.measurand !== undefined) out.measurand = sampled.measurand;
  if (sampled.phase !== undefined) out.phase = sampled.phase;
  if (sampled.location !== undefined) out.location = sampled.location;
  const unit = sampled.unitOfMeasure?.unit;
  if (unit !== undefined) out.unit = UNIT_ALIASES[unit] ?? unit;
  return out;
}

/** 10^-n scaling leaves binary noise (0.1 * 3): twelve significant digits are more than any meter has. */
function roundDecimal(value: number): number {
  return Number.parseFloat(value.toPrecision(12));
}

/** The newest Energy.Active.Import.Register among `values`, in Wh; undefined when none is there. */
export function energyRegisterWh(values: readonly MeterValue201[] | undefined): number | undefined {
  let found: number | undefined;
  for (const value of values ?? []) {
    for (const sampled of value.sampledValue) {
      if ((sampled.measurand ?? 'Energy.Active.Import.Register') !== 'Energy.Active.Import.Register')
        continue;
      if (sampled.phase !== undefined) continue;
      const multiplier = sampled.unitOfMeasure?.multiplier ?? 0;
      const unit = sampled.unitOfMeasure?.unit ?? 'Wh';
      const wh = sampled.value * 10 ** multiplier * (unit.toLowerCase() === 'kwh' ? 1000 : 1);
      if (Number.isFinite(wh)) found = Math.round(wh);
    }
  }
  return found;
}
