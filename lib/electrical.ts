/**
 * The electrical facts every room uses (DESIGN.md, "Electrical model"). One owner each: the load
 * manager, the charging-profile manager and the central system read them here and define none
 * of their own.
 */

/**
 * Nominal line-to-neutral voltage for W = A × V × phases where a site or a setting names none:
 * errata 3.68 says "the set voltage for the area (hence, 230 or 110 volt)".
 */
export const NOMINAL_VOLTAGE_V = 230;

/** IEC 61851-1: the lowest current a charger may offer a car; below it a car is paused (0 A). */
export const IEC_61851_MINIMUM_A = 6;

/** A phase carries charging current when it measures more than this (single-phase detection). */
export const ACTIVE_PHASE_A = 1;

/**
 * The most current an AC charging connector is rated for, A: SAE J1772 80 A (IEC 62196-2 Type 2:
 * 63 A three-phase, 70 A single-phase). A site's connector offers at most this (its `maxA`).
 */
export const AC_CONNECTOR_MAX_A = 80;
