/**
 * What the chargers were told, per transaction id: the StartTransaction and StopTransaction
 * answers they got. Kept in typed arrays, whose memory lies outside the JavaScript heap, so that a
 * soak measuring the heap measures the product and not the test's own bookkeeping (Maps of every
 * session grew the heap by about 280 bytes per session: 20 MB over a long soak).
 */
export interface AcknowledgedStart {
  chargePointId: string;
  timestampMs: number;
  meterStart: number;
}

export class AckLedger {
  private readonly identities: string[];
  private readonly indexOf = new Map<string, number>();
  private startCharger = new Int32Array(0);
  private startTimestamp = new Float64Array(0);
  private startMeter = new Float64Array(0);
  private stopCharger = new Int32Array(0);
  private stopMeter = new Float64Array(0);
  private starts = 0;
  private stops = 0;

  /** `identities`: every charger that may report (known up front, so nothing grows later). */
  constructor(identities: readonly string[], capacity = 1024) {
    this.identities = [...identities];
    for (const [index, identity] of this.identities.entries()) this.indexOf.set(identity, index + 1);
    this.grow(capacity);
  }

  get startCount(): number {
    return this.starts;
  }

  get stopCount(): number {
    return this.stops;
  }

  /**
   * Records an acknowledged start. Returns false when the id was already given to another start
   * (another charger, or another timestamp): an id issued twice. The same start sent again (its
   * answer was lost) rightly gets the same id.
   */
  recordStart(transactionId: number, chargePointId: string, timestamp: string, meterStart: number): boolean {
    this.ensure(transactionId);
    const charger = this.charger(chargePointId);
    const timestampMs = Date.parse(timestamp);
    const earlier = this.startCharger[transactionId] ?? 0;
    if (earlier !== 0) {
      return earlier === charger && this.startTimestamp[transactionId] === timestampMs;
    }
    this.startCharger[transactionId] = charger;
    this.startTimestamp[transactionId] = timestampMs;
    this.startMeter[transactionId] = meterStart;
    this.starts += 1;
    return true;
  }

  recordStop(transactionId: number, chargePointId: string, meterStop: number): void {
    this.ensure(transactionId);
    if (this.stopCharger[transactionId] === 0) this.stops += 1;
    this.stopCharger[transactionId] = this.charger(chargePointId);
    this.stopMeter[transactionId] = meterStop;
  }

  start(transactionId: number): AcknowledgedStart | undefined {
    const charger = this.startCharger[transactionId] ?? 0;
    if (charger === 0) return undefined;
    return {
      chargePointId: this.identities[charger - 1] as string,
      timestampMs: this.startTimestamp[transactionId] as number,
      meterStart: this.startMeter[transactionId] as number,
    };
  }

  /** Every acknowledged stop, in id order. */
  *acknowledgedStops(): Generator<{ transactionId: number; chargePointId: string; meterStop: number }> {
    for (let id = 0; id < this.stopCharger.length; id++) {
      const charger = this.stopCharger[id] ?? 0;
      if (charger !== 0) {
        yield {
          transactionId: id,
          chargePointId: this.identities[charger - 1] as string,
          meterStop: this.stopMeter[id] as number,
        };
      }
    }
  }

  private charger(chargePointId: string): number {
    const index = this.indexOf.get(chargePointId);
    if (index === undefined) throw new Error(`charger ${chargePointId} is not in the ledger`);
    return index;
  }

  private ensure(transactionId: number): void {
    if (!Number.isSafeInteger(transactionId) || transactionId < 1)
      throw new Error(`transaction id ${transactionId} is not a positive integer`);
    if (transactionId >= this.startCharger.length)
      this.grow(Math.max(transactionId + 1, this.startCharger.length * 2));
  }

  private grow(capacity: number): void {
    const copy = <T extends Int32Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.startCharger = copy(this.startCharger, (n) => new Int32Array(n));
    this.startTimestamp = copy(this.startTimestamp, (n) => new Float64Array(n));
    this.startMeter = copy(this.startMeter, (n) => new Float64Array(n));
    this.stopCharger = copy(this.stopCharger, (n) => new Int32Array(n));
    this.stopMeter = copy(this.stopMeter, (n) => new Float64Array(n));
  }
}
