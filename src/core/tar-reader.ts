import { TroveError } from '../errors.js';
import { TAR_BLOCK, type TarHeaderInput } from './tar.js';

/** A parsed entry header; `linkname` is set for symlinks only. */
export type TarEntryHeader = TarHeaderInput;

/** What the reader produces, in order, for each pushed slice. */
export type TarEvent =
  | { kind: 'entry'; header: TarEntryHeader }
  /** Entry data; a view into the pushed buffer, not a copy. */
  | { kind: 'data'; bytes: Buffer }
  | { kind: 'entryEnd' }
  | { kind: 'end' };

/** Largest PAX or GNU long-name payload accepted. */
export const MAX_TAR_META_BYTES = 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bad(message: string): TroveError {
  return new TroveError('invalid_request', `malformed tar archive: ${message}`);
}

function text(bytes: Uint8Array, what: string): string {
  const nul = bytes.indexOf(0);
  try {
    return utf8.decode(nul < 0 ? bytes : bytes.subarray(0, nul));
  } catch {
    throw bad(`${what} is not valid UTF-8`);
  }
}

/** Reads an octal numeric field, or GNU base-256 when the high bit is set. */
function num(h: Buffer, at: number, width: number, what: string): number {
  if (h[at]! & 0x80) {
    if (h[at] !== 0x80) throw bad(`${what} is negative or too large`);
    let v = 0;
    for (let i = at + 1; i < at + width; i++) v = v * 256 + h[i]!;
    if (!Number.isSafeInteger(v)) throw bad(`${what} is too large`);
    return v;
  }
  const s = h
    .toString('latin1', at, at + width)
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw bad(`${what} is not an octal number`);
  const v = Number.parseInt(s, 8);
  if (!Number.isSafeInteger(v)) throw bad(`${what} is too large`);
  return v;
}

/** Overrides from PAX 'x' or GNU 'L'/'K' headers for the next entry. */
interface Pending {
  path?: string;
  linkpath?: string;
  size?: number;
}

function parsePax(data: Buffer, into: Pending): void {
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    if (sp < 0 || sp - pos > 12) throw bad('PAX record without a length');
    const lenText = data.toString('latin1', pos, sp);
    if (!/^[1-9][0-9]*$/.test(lenText)) throw bad('PAX record length is not a number');
    const end = pos + Number(lenText);
    if (end > data.length || end <= sp + 1 || data[end - 1] !== 0x0a)
      throw bad('PAX record is malformed');
    const record = data.subarray(sp + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw bad('PAX record without a key');
    const key = text(record.subarray(0, eq), 'PAX key');
    const value = record.subarray(eq + 1);
    if (value.includes(0)) throw bad(`PAX ${key} contains NUL`);
    if (key === 'path') into.path = text(value, 'PAX path');
    else if (key === 'linkpath') into.linkpath = text(value, 'PAX linkpath');
    else if (key === 'size') {
      const s = value.toString('latin1');
      if (!/^[0-9]{1,16}$/.test(s) || !Number.isSafeInteger(Number(s)))
        throw bad('PAX size is invalid');
      into.size = Number(s);
    }
    pos = end;
  }
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

const UNSAFE_TYPES: Record<string, string> = {
  '1': 'hard link',
  '3': 'character device',
  '4': 'block device',
  '6': 'FIFO',
};

/**
 * Push-based tar reader for ustar, PAX ('x', and 'g' which is skipped) and
 * GNU long names ('L', 'K'). It checks header checksums and structure and
 * refuses hard links, devices and FIFOs (`unsafe_path`); other problems are
 * `invalid_request`. Paths are returned as parsed (directories without the
 * trailing '/'); path policy belongs to the extractor.
 */
export class TarReader {
  private head = Buffer.alloc(TAR_BLOCK);
  private headFill = 0;
  private state: 'header' | 'data' | 'pad' | 'meta' | 'done' = 'header';
  private remaining = 0;
  private padLeft = 0;
  private meta: { type: string; parts: Buffer[]; size: number } | null = null;
  private pending: Pending = {};
  private zeroBlocks = 0;

  /** Consumes the next bytes; returns the events they complete. Throws TroveError. */
  push(bytes: Buffer): TarEvent[] {
    const out: TarEvent[] = [];
    let off = 0;
    while (off < bytes.length && this.state !== 'done') {
      if (this.state === 'header') {
        const take = Math.min(TAR_BLOCK - this.headFill, bytes.length - off);
        bytes.copy(this.head, this.headFill, off, off + take);
        this.headFill += take;
        off += take;
        if (this.headFill === TAR_BLOCK) {
          this.headFill = 0;
          this.header(out);
        }
      } else if (this.state === 'data' || this.state === 'meta') {
        const take = Math.min(this.remaining, bytes.length - off);
        const slice = bytes.subarray(off, off + take);
        off += take;
        this.remaining -= take;
        if (this.state === 'data') out.push({ kind: 'data', bytes: slice });
        else this.meta!.parts.push(Buffer.from(slice));
        if (this.remaining === 0) this.endOfData(out);
      } else {
        const take = Math.min(this.padLeft, bytes.length - off);
        off += take;
        this.padLeft -= take;
        if (this.padLeft === 0) this.state = 'header';
      }
    }
    return out;
  }

  /** Declares the input complete; throws when the archive was cut short. */
  end(): void {
    if (this.state !== 'done') throw bad('archive is truncated (no end-of-archive marker)');
  }

  private endOfData(out: TarEvent[]): void {
    if (this.state === 'meta') {
      const m = this.meta!;
      this.meta = null;
      const data = Buffer.concat(m.parts);
      if (m.type === 'x') parsePax(data, this.pending);
      else if (m.type === 'L') this.pending.path = text(data, 'GNU long name');
      else if (m.type === 'K') this.pending.linkpath = text(data, 'GNU long link name');
      this.afterData(m.size);
      return;
    }
    out.push({ kind: 'entryEnd' });
    this.afterData(this.dataSize);
  }

  private dataSize = 0;

  private afterData(size: number): void {
    this.padLeft = (TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK;
    this.state = this.padLeft > 0 ? 'pad' : 'header';
  }

  private header(out: TarEvent[]): void {
    const h = this.head;
    if (isZero(h)) {
      if (++this.zeroBlocks === 2) {
        if (Object.keys(this.pending).length > 0) throw bad('extended header without an entry');
        this.state = 'done';
        out.push({ kind: 'end' });
      }
      return;
    }
    if (this.zeroBlocks > 0) throw bad('a zero block inside the archive');
    let sum = 0;
    let signed = 0;
    for (let i = 0; i < TAR_BLOCK; i++) {
      const b = i >= 148 && i < 156 ? 0x20 : h[i]!;
      sum += b;
      signed += b > 127 ? b - 256 : b;
    }
    const stored = num(h, 148, 8, 'checksum');
    if (stored !== sum && stored !== signed) throw bad('header checksum mismatch');
    const magic = h.toString('latin1', 257, 263);
    const posix = magic === 'ustar\0';
    if (!posix && magic !== 'ustar ')
      throw bad('not a ustar header (old V7 archives are not supported)');
    const flag = h[156] === 0 ? '0' : String.fromCharCode(h[156]!);
    let size = num(h, 124, 12, 'size');
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > MAX_TAR_META_BYTES) throw bad(`extended header of ${size} bytes is too large`);
      // Global 'g' headers are collected and dropped: they carry defaults trove does not use.
      this.meta = { type: flag, parts: [], size };
      this.remaining = size;
      this.state = 'meta';
      if (size === 0) this.endOfData(out);
      return;
    }
    const unsafe = UNSAFE_TYPES[flag];
    if (unsafe)
      throw new TroveError(
        'unsafe_path',
        `tar archive contains a ${unsafe}, which trove refuses to extract`,
      );
    const type =
      flag === '0' || flag === '7'
        ? 'file'
        : flag === '5'
          ? 'dir'
          : flag === '2'
            ? 'symlink'
            : null;
    if (type === null) throw bad(`unsupported entry type '${flag}'`);
    const p = this.pending;
    this.pending = {};
    let path = p.path;
    if (path === undefined) {
      const name = text(h.subarray(0, 100), 'name');
      const prefix = posix ? text(h.subarray(345, 500), 'prefix') : '';
      path = prefix ? `${prefix}/${name}` : name;
    }
    if (p.size !== undefined) size = p.size;
    if (type === 'dir') path = path.replace(/\/+$/, '');
    if (path === '') throw bad('entry with an empty name');
    if (type !== 'file' && size !== 0) throw bad(`${type} entry ${JSON.stringify(path)} has data`);
    const header: TarEntryHeader = {
      path,
      type,
      size,
      mode: num(h, 100, 8, 'mode') & 0o7777,
      mtime: num(h, 136, 12, 'mtime'),
    };
    if (type === 'symlink') {
      header.linkname = p.linkpath ?? text(h.subarray(157, 257), 'link name');
      if (header.linkname === '') throw bad(`symlink ${JSON.stringify(path)} has no target`);
    }
    out.push({ kind: 'entry', header });
    this.dataSize = size;
    this.remaining = size;
    this.state = 'data';
    if (size === 0) this.endOfData(out);
  }
}
