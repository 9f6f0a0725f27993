/**
 * The home battery as the pv cars' buffer for what they could not take (modes/pv.ts asks it on
 * every update). Above its priority SoC the surplus is the cars' first; what the battery charges
 * from it then is surplus the cars did not take (at their maximum, one phase below the three-phase
 * switch, the meter's lag). It banks that energy, and what the battery gives while a cloud passes
 * is paid from the bank first: that is no shortfall of a charging pv car, which rides the dip at its
 * minimum instead of stopping (and starting again, paying the restart reserve, the enable delay and
 * the charger's response each time). Below its priority SoC the battery charges for the home: the
 * bank is emptied, and nothing of the home's energy feeds a car (that stays the owner's choice,
 * `pv.batteryBufferSocPercent`). Never to start a car.
 */

/** What the bank gives now, W, from the battery's power (positive while charging), W. */
export class BatteryBank {
  private wms = 0;
  private atMs: number | undefined;
  private lastW: number | undefined;

  /**
   * `batteryW`: the battery's power now (undefined: no fresh reading: the bank is kept, gives
   * nothing); `forHome`: it charges first (below its priority SoC). Returns what of its discharge
   * the bank pays now, W.
   */
  update(batteryW: number | undefined, forHome: boolean, now: number): number {
    const sinceMs = this.atMs === undefined ? 0 : Math.max(0, now - this.atMs);
    this.atMs = now;
    // The power seen at the last update lasted until now.
    const lastW = this.lastW;
    this.lastW = batteryW;
    if (forHome) {
      this.wms = 0;
      return 0;
    }
    if (lastW !== undefined) this.wms = Math.max(0, this.wms + lastW * sinceMs);
    if (batteryW === undefined || batteryW >= 0 || this.wms <= 0) return 0;
    return -batteryW;
  }

  /** The energy banked, Wh. */
  get wh(): number {
    return this.wms / 3_600_000;
  }
}
