/**
 * The simulated PV days (sim/site-scenarios.ts `pvHome`) that the benches run: bench:dlm all of
 * them, bench:control the two with 1p/3p switching and no battery buffer (`control: true`).
 */
import type { HomeOptions } from '../../sim/site-scenarios';

export interface PvDay {
  /** Short name (`npm run bench:control -- --day pv-fast-clouds`). */
  name: string;
  label: string;
  options: HomeOptions;
  /** One of bench:control's days. */
  control?: boolean;
}

export const PV_DAYS: readonly PvDay[] = [
  { name: 'pv-sunny-cloudy', label: 'sunny then cloudy, with 1p/3p switching', options: {}, control: true },
  {
    name: 'pv-sunny-cloudy-buffer',
    label: 'sunny then cloudy, with 1p/3p switching, battery buffer above 80 % SoC',
    options: { batteryBufferSocPercent: 80 },
  },
  {
    name: 'pv-sunny-cloudy-3p',
    label: 'sunny then cloudy, without 1p/3p switching',
    options: { phaseSwitching: false },
  },
  {
    name: 'pv-fast-clouds',
    label: 'fast-moving clouds, with 1p/3p switching',
    options: { clouds: 'fast' },
    control: true,
  },
  {
    name: 'pv-fast-clouds-buffer',
    label: 'fast-moving clouds, with 1p/3p switching, battery buffer above 80 % SoC',
    options: { clouds: 'fast', batteryBufferSocPercent: 80 },
  },
];
