/**
 * The hold of a connection's commands while a transaction is known to the central system and not
 * yet to the charger (its StartTransaction answer is still on its way): commands wait for it, so
 * that none names a transaction the charger does not know (OCPP 1.6 §3.13.2: a TxProfile for an
 * unknown transaction is rejected). The traffic gate (traffic.ts), through which every command
 * comes, waits for `released`; the connection tells when an answer goes out.
 */
export class StartHold {
  /** Message ids of the charger's StartTransaction calls whose answer has not gone out yet. */
  private readonly unanswered = new Set<string>();
  private held: { promise: Promise<void>; release: () => void } | undefined;

  /** A StartTransaction came in with this message id. */
  started(messageId: string): void {
    this.unanswered.add(messageId);
  }

  /** An answer of ours with this message id is on its way to the charger. */
  answered(messageId: string): void {
    if (this.unanswered.delete(messageId) && this.unanswered.size === 0) this.release();
  }

  /**
   * The transaction being started is now known to the central system: commands wait until the
   * charger has the answer that gives it the transaction's id (a room between, such as the
   * operator's backend, may take a while to hand the answer on).
   */
  hold(): void {
    if (this.held || this.unanswered.size === 0) return;
    let release = (): void => undefined;
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.held = { promise, release };
  }

  get holding(): boolean {
    return this.held !== undefined;
  }

  /** Resolves once no command waits for a StartTransaction answer. */
  async released(): Promise<void> {
    while (this.held) await this.held.promise;
  }

  /** The connection closed: nothing waits any more. */
  end(): void {
    this.unanswered.clear();
    this.release();
  }

  private release(): void {
    const held = this.held;
    this.held = undefined;
    held?.release();
  }
}
