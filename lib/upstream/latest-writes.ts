/**
 * Durable writes of "the latest state" of something (a charger's upstream facts), at most one in
 * flight per key. A request made while a write of its key is in flight is served by one more write
 * after it, which takes the state as it is when it starts; every request made meanwhile shares that
 * write. So a burst of changes costs two writes, not one per change, and each write still carries
 * the newest state: when a request's promise resolves, a state at least as new as the one at the
 * request is written (or its failure was handled by `write`, which must not reject).
 */
export class LatestWrites<K> {
  private readonly running = new Map<K, Promise<void>>();
  private readonly queued = new Map<K, Promise<void>>();

  constructor(private readonly write: (key: K) => Promise<void>) {}

  /** Resolves once a write of `key` that started at or after this call has finished. */
  request(key: K): Promise<void> {
    const queued = this.queued.get(key);
    if (queued) return queued;
    const running = this.running.get(key);
    if (!running) return this.run(key);
    const next = running.then(() => {
      this.queued.delete(key);
      return this.run(key);
    });
    this.queued.set(key, next);
    return next;
  }

  /** Resolves once every write requested so far has finished. */
  async flush(): Promise<void> {
    while (this.queued.size > 0 || this.running.size > 0)
      await Promise.all([...this.queued.values(), ...this.running.values()]);
  }

  private run(key: K): Promise<void> {
    const done: Promise<void> = this.write(key)
      .catch(() => undefined)
      .finally(() => {
        if (this.running.get(key) === done) this.running.delete(key);
      });
    this.running.set(key, done);
    return done;
  }
}
