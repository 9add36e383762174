/** A binary min-heap on time; ties keep insertion order, which keeps the output deterministic. */
export class Queue<T> {
  now = 0;
  private readonly times: number[] = [];
  private readonly seqs: number[] = [];
  private readonly values: T[] = [];
  private seq = 0;

  push(t: number, value: T): void {
    const seq = this.seq++;
    let i = this.times.length;
    this.times.push(t);
    this.seqs.push(seq);
    this.values.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = this.times[parent] as number;
      if (pt < t || (pt === t && (this.seqs[parent] as number) < seq)) break;
      this.move(parent, i);
      i = parent;
    }
    this.set(i, t, seq, value);
  }

  /** The earliest entry; its time becomes `now`. */
  pop(): T | undefined {
    const n = this.times.length - 1;
    if (n < 0) return undefined;
    const top = this.values[0] as T;
    this.now = this.times[0] as number;
    const t = this.times.pop() as number;
    const seq = this.seqs.pop() as number;
    const value = this.values.pop() as T;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.before(child + 1, child)) child++;
      const ct = this.times[child] as number;
      if (t < ct || (t === ct && seq < (this.seqs[child] as number))) break;
      this.move(child, i);
      i = child;
    }
    this.set(i, t, seq, value);
    return top;
  }

  private before(a: number, b: number): boolean {
    const ta = this.times[a] as number;
    const tb = this.times[b] as number;
    return ta < tb || (ta === tb && (this.seqs[a] as number) < (this.seqs[b] as number));
  }

  private move(from: number, to: number): void {
    this.set(to, this.times[from] as number, this.seqs[from] as number, this.values[from] as T);
  }

  private set(i: number, t: number, seq: number, value: T): void {
    this.times[i] = t;
    this.seqs[i] = seq;
    this.values[i] = value;
  }
}
