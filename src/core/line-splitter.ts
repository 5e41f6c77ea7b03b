const NL = 0x0a;

/**
 * Splits pushed bytes into newline-terminated lines, holding at most one
 * partial line, which may not exceed `maxLineBytes`. Shared by the
 * manifest and manifest-delta decoders so both bound memory the same way.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** `maxLineBytes` bounds a line, its newline included. */
  constructor(private readonly maxLineBytes: number) {}

  /**
   * Calls `onLine` for every line completed by `chunk` (without its newline).
   * `tooLong` builds the error thrown for an over-long line.
   */
  push(chunk: Uint8Array, onLine: (line: Buffer) => void, tooLong: () => Error): void {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (;;) {
      const nl = buf.indexOf(NL);
      if (nl < 0) {
        this.pendingBytes += buf.length;
        if (this.pendingBytes > this.maxLineBytes) throw tooLong();
        if (buf.length > 0) this.pending.push(Buffer.from(buf));
        return;
      }
      let line = buf.subarray(0, nl);
      buf = buf.subarray(nl + 1);
      if (this.pending.length > 0) {
        this.pending.push(line);
        line = Buffer.concat(this.pending);
        this.pending = [];
      }
      this.pendingBytes = 0;
      if (line.length + 1 > this.maxLineBytes) throw tooLong();
      onLine(line);
    }
  }

  /** True when bytes after the last newline are waiting (an unterminated last line). */
  get hasPartialLine(): boolean {
    return this.pendingBytes > 0;
  }
}
