/** A command in the shared shapes as a 2.0.1 charger gets it, and how its answer reads back. */
export interface Translated {
  action: string;
  request: Record<string, unknown>;
  read(response: Record<string, unknown>): unknown;
  /** The answer without asking the charger (nothing of the command exists in 2.0.1's terms). */
  answer?: unknown;
}
