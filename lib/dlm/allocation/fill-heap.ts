/**
 * The progressive fill's queue (allocation/fill.ts): which constraint becomes tight next. A
 * constraint solved again pushes a new entry with a new version; older entries are skipped.
 */

/**
 * A min-heap of (level, constraint), entries of an older version of a constraint skipped. Flat
 * typed arrays that grow by doubling: a fill pushes an entry every time it solves a constraint.
 */
export class TightHeap {
  private t = new Float64Array(64);
  private c = new Int32Array(64);
  private v = new Int32Array(64);
  private size = 0;

  push(t: number, c: number, v: number): void {
    if (this.size === this.t.length) this.grow();
    let i = this.size++;
    this.t[i] = t;
    this.c[i] = c;
    this.v[i] = v;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Drops entries of older versions from the top; whether a current one is left (then at the top). */
  peek(version: Int32Array): boolean {
    while (this.size > 0 && this.v[0] !== version[this.c[0] ?? 0]) this.pop();
    return this.size > 0;
  }

  /** The top's level and constraint (after `peek` said there is one). */
  get topT(): number {
    return this.t[0] ?? 0;
  }

  get topC(): number {
    return this.c[0] ?? 0;
  }

  /** Every current constraint at or below `level`. */
  popUpTo(level: number, version: Int32Array): number[] {
    const out: number[] = [];
    for (;;) {
      if (!this.peek(version) || this.topT > level) return out;
      out.push(this.topC);
      this.pop();
    }
  }

  private grow(): void {
    const t = new Float64Array(2 * this.t.length);
    const c = new Int32Array(2 * this.c.length);
    const v = new Int32Array(2 * this.v.length);
    t.set(this.t);
    c.set(this.c);
    v.set(this.v);
    this.t = t;
    this.c = c;
    this.v = v;
  }

  private pop(): void {
    const last = --this.size;
    this.swap(0, last);
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < this.size && this.less(left, least)) least = left;
      if (right < this.size && this.less(right, least)) least = right;
      if (least === i) return;
      this.swap(i, least);
      i = least;
    }
  }

  private less(a: number, b: number): boolean {
    const ta = this.t[a] ?? 0;
    const tb = this.t[b] ?? 0;
    return ta < tb || (ta === tb && (this.c[a] ?? 0) < (this.c[b] ?? 0));
  }

  private swap(a: number, b: number): void {
    const t = this.t[a] ?? 0;
    this.t[a] = this.t[b] ?? 0;
    this.t[b] = t;
    const c = this.c[a] ?? 0;
    this.c[a] = this.c[b] ?? 0;
    this.c[b] = c;
    const v = this.v[a] ?? 0;
    this.v[a] = this.v[b] ?? 0;
    this.v[b] = v;
  }
}
