/** One encoded record waiting for Kafka. */
export interface PendingRecord {
  /** Kafka key: the tenant ('' when unauthenticated). */
  key: string;
  value: Buffer;
}

export interface BufferLimits {
  maxRecords: number;
  maxBytes: number;
}

/**
 * The bounded in-memory queue between the request path and Kafka. `offer` never blocks and
 * never throws: a record beyond either bound is refused (the caller counts it as dropped).
 * Batches are taken from the front; a batch Kafka refused is put back at the front, so order
 * per key is kept and nothing is lost while the bound holds.
 */
export class RecordBuffer {
  private items: PendingRecord[] = [];
  private head = 0;
  private bytes = 0;

  constructor(private readonly limits: BufferLimits) {}

  get size(): number {
    return this.items.length - this.head;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** False (and nothing kept) when the buffer is full. */
  offer(r: PendingRecord): boolean {
    if (this.size >= this.limits.maxRecords || this.bytes + r.value.length > this.limits.maxBytes) {
      return false;
    }
    this.items.push(r);
    this.bytes += r.value.length;
    return true;
  }

  /**
   * Removes and returns up to `max` records from the front, and no more than `maxBytes` of
   * values, except that the first record is always taken (a record larger than `maxBytes` goes
   * alone).
   */
  take(max: number, maxBytes = Infinity): PendingRecord[] {
    const last = Math.min(this.items.length, this.head + max);
    let end = this.head;
    let bytes = 0;
    while (end < last) {
      bytes += this.items[end]!.value.length;
      if (end > this.head && bytes > maxBytes) break;
      end++;
    }
    const batch = this.items.slice(this.head, end);
    this.head = end;
    for (const r of batch) this.bytes -= r.value.length;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  /** Puts a batch back at the front (it was taken but not published); may exceed the bound. */
  putBack(batch: readonly PendingRecord[]): void {
    if (batch.length === 0) return;
    this.items = [...batch, ...this.items.slice(this.head)];
    this.head = 0;
    for (const r of batch) this.bytes += r.value.length;
  }
}
