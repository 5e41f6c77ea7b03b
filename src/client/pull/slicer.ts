/** Accumulates a byte stream and hands out [offset, offset+size) slices, dropping what is behind. */
export class Slicer {
  /** Bytes received so far. */
  position = 0;
  private parts: Buffer[] = [];
  private partsStart = 0;

  /** Bytes currently held. */
  get buffered(): number {
    return this.parts.reduce((n, p) => n + p.length, 0);
  }

  /** Appends the next bytes of the stream (kept by reference, not copied). */
  add(buf: Buffer): void {
    if (buf.length === 0) return;
    this.parts.push(buf);
    this.position += buf.length;
  }

  /**
   * The bytes [offset, offset + size) once they have all arrived, else null.
   * Offsets must not decrease between calls; earlier bytes are released.
   */
  take(offset: number, size: number): Buffer | null {
    if (this.position < offset + size) return null;
    if (size === 0) return Buffer.alloc(0);
    // Drop whole parts that end before the slice.
    while (this.parts.length > 0 && this.partsStart + this.parts[0]!.length <= offset) {
      this.partsStart += this.parts[0]!.length;
      this.parts.shift();
    }
    const first = this.parts[0]!;
    const from = offset - this.partsStart;
    if (from + size <= first.length) return first.subarray(from, from + size);
    // Join from the slice's start only, so bytes already handed out are never copied again.
    this.parts[0] = first.subarray(from);
    this.partsStart = offset;
    const joined = Buffer.concat(this.parts);
    this.parts = [joined];
    return joined.subarray(0, size);
  }
}
