/** Whether `value` is a plain object with fields (not null, not a list): what input from a flow, a file or a charger must be before its fields are read. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
