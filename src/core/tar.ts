/**
 * POSIX tar writer (ustar, with a PAX extended header when a field does not
 * fit). trove's archives only need files, directories and symlinks.
 */

/** Tar block size; every header and every data area is a multiple of it. */
export const TAR_BLOCK = 512;
/** End-of-archive marker: two zero blocks. */
export const TAR_END: Buffer = Buffer.alloc(2 * TAR_BLOCK);

/** The entry kinds trove writes and reads. */
export type TarEntryType = 'file' | 'dir' | 'symlink';

/** One entry's metadata, as written or read. */
export interface TarHeaderInput {
  /** Relative path without a trailing '/' (the writer adds it to directories). */
  path: string;
  /** Entry kind. */
  type: TarEntryType;
  /** Data length in bytes (0 for directories and symlinks). */
  size: number;
  /** Permission bits, e.g. 0o644 or 0o755. */
  mode: number;
  /** Modification time in whole seconds since the epoch. */
  mtime: number;
  /** Symlink target (symlinks only). */
  linkname?: string;
}

const OCTAL_SIZE_LIMIT = 8 ** 11; // 11 octal digits: 8 GiB
const TYPE_FLAG: Record<TarEntryType, string> = { file: '0', dir: '5', symlink: '2' };

function isAscii(s: string): boolean {
  return /^[\x01-\x7f]*$/.test(s);
}

function writeOctal(h: Buffer, value: number, at: number, width: number): void {
  h.write(`${value.toString(8).padStart(width - 1, '0')}\0`, at, width, 'ascii');
}

/** Splits a path into ustar prefix and name at a '/', or returns null when it cannot fit. */
function splitUstar(path: string): { prefix: string; name: string } | null {
  if (!isAscii(path)) return null;
  if (path.length <= 100) return { prefix: '', name: path };
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    if (i <= 155 && path.length - i - 1 <= 100 && path.length - i - 1 > 0)
      return { prefix: path.slice(0, i), name: path.slice(i + 1) };
  }
  return null;
}

/** One PAX record: "<len> <key>=<value>\n", where len counts the whole record in bytes. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + String(bodyLen).length;
  if (String(len).length + bodyLen !== len) len = bodyLen + String(len).length;
  return `${len}${body}`;
}

function ustarBlock(
  name: string,
  prefix: string,
  flag: string,
  size: number,
  mode: number,
  mtime: number,
  linkname: string,
): Buffer {
  const h = Buffer.alloc(TAR_BLOCK);
  h.write(name, 0, 100, 'utf8');
  writeOctal(h, mode & 0o7777, 100, 8);
  writeOctal(h, 0, 108, 8);
  writeOctal(h, 0, 116, 8);
  writeOctal(h, size, 124, 12);
  writeOctal(h, Math.min(Math.max(0, Math.floor(mtime)), OCTAL_SIZE_LIMIT - 1), 136, 12);
  h.write(flag, 156, 1, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\x0000', 257, 8, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

/**
 * The header block(s) of one entry: a ustar header, preceded by a PAX 'x'
 * header (and its data) when the path or link target is long or non-ASCII
 * or the size is 8 GiB or more. Follow it with the data and tarPadding(size).
 */
export function tarHeader(e: TarHeaderInput): Buffer {
  const path = e.type === 'dir' ? `${e.path}/` : e.path;
  const linkname = e.linkname ?? '';
  const size = e.type === 'file' ? e.size : 0;
  const split = splitUstar(path);
  const linkFits = isAscii(linkname) && linkname.length <= 100;
  const sizeFits = size < OCTAL_SIZE_LIMIT;
  const flag = TYPE_FLAG[e.type];
  if (split && linkFits && sizeFits)
    return ustarBlock(split.name, split.prefix, flag, size, e.mode, e.mtime, linkname);
  let pax = '';
  if (!split) pax += paxRecord('path', path);
  if (!linkFits) pax += paxRecord('linkpath', linkname);
  if (!sizeFits) pax += paxRecord('size', String(size));
  const paxData = Buffer.from(pax, 'utf8');
  // The fallback ustar fields hold a readable ASCII stand-in; readers use the PAX values.
  const stand = (s: string) => s.replace(/[^\x20-\x7e]/g, '_').slice(-100);
  return Buffer.concat([
    ustarBlock('PaxHeader', '', 'x', paxData.length, 0o644, e.mtime, ''),
    paxData,
    tarPadding(paxData.length),
    ustarBlock(
      split ? split.name : stand(path),
      split ? split.prefix : '',
      flag,
      sizeFits ? size : 0,
      e.mode,
      e.mtime,
      linkFits ? linkname : stand(linkname),
    ),
  ]);
}

/** Zero bytes that pad `size` bytes of data up to the next block boundary. */
export function tarPadding(size: number): Buffer {
  const rest = size % TAR_BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(TAR_BLOCK - rest);
}
