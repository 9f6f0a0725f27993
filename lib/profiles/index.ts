/**
 * SetChargingProfile emitters: set-points in, the commands each charger model obeys out, and the
 * proof that they took effect. See {@link ChargingProfileManager}.
 */
export * from './build';
export * from './capabilities';
export * from './facts';
export * from './limits';
export * from './manager';
export * from './plan';
export * from './reports';
export * from './retry';
export * from './settings';
export * from './strategies';
export * from './verification';
