/**
 * The progressive fill's queue (allocation-fill.ts): which constraint becomes tight next. A
 * constraint solved again pushes a new entry with a new version; older entries are skipped.
 */

/** A min-heap of (level, constraint), entries of an older version of a constraint skipped. */
export class TightHeap {
  private readonly t: number[] = [];
  private readonly c: number[] = [];
  private readonly v: number[] = [];

  push(t: number, c: number, v: number): void {
    this.t.push(t);
    this.c.push(c);
    this.v.push(v);
    let i = this.t.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Drops entries of older versions from the top; whether a current one is left (then at the top). */
  peek(version: Int32Array): boolean {
    while (this.t.length > 0 && this.v[0] !== version[this.c[0] ?? 0]) this.pop();
    return this.t.length > 0;
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

  private pop(): void {
    const last = this.t.length - 1;
    this.swap(0, last);
    this.t.pop();
    this.c.pop();
    this.v.pop();
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < this.t.length && this.less(left, least)) least = left;
      if (right < this.t.length && this.less(right, least)) least = right;
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
