/**
 * The charging-profile model of both OCPP versions (1.6 section 3.13, 2.0.1 K08): stacking,
 * validity, recurrence and the composite schedule, in one place. What only 2.0.1 has (its shapes,
 * names and the rules that differ) is in lib/ocpp/v201/charging-profiles.ts.
 *
 * - model.ts: the shapes, and the arithmetic of one limit (W to A, the lower of two)
 * - check.ts: whether a charge point takes a profile, what it replaces, what a clear removes
 * - schedule.ts: validity, schedule start and recurrence, the period in force, stack levels
 * - composite.ts: a composite schedule from the limits at its moments of change
 * - store.ts: the profiles of one charge point and the limits they set
 */
export { checkProfile, clears, replaces } from './check';
export { type CompositePeriod, compositeResponse } from './composite';
export {
  type ChargingProfile,
  type ChargingProfilePurpose,
  type ChargingRateUnit,
  type ClearCriteria,
  type ConnectorView,
  EXTERNAL_CONSTRAINTS,
  type InstalledProfile,
  isProfile16,
  type Limit,
  type LimitContext,
  limitOfPeriod,
  lowerOf,
  type ModelProfile,
  minLimit,
  type Period,
  type ProfileRules,
  type ProfileVerdict,
  round1,
} from './model';
export { breakpoints, periodAt, prevailing } from './schedule';
export { ChargingProfileStore } from './store';
