/**
 * Test helper: a minimal ustar + PAX writer that can also produce what a
 * well-behaved writer refuses to (hardlinks, devices, '..', absolute names),
 * so the extractor's path policy can be attacked directly.
 */

/** One raw member. */
export interface RawMember {
  /** Member name exactly as stored. */
  name: string;
  /** ustar typeflag: '0' file, '1' hardlink, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo. */
  type: '0' | '1' | '2' | '3' | '4' | '5' | '6';
  /** File data. */
  data?: Buffer;
  /** Permission bits (default 0o644, dirs 0o755). */
  mode?: number;
  /** Link target for hardlinks and symlinks. */
  linkname?: string;
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name: string, type: string, size: number, mode: number, linkname: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(0, 12), 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

function pad(data: Buffer): Buffer[] {
  const rest = data.length % 512;
  return rest === 0 ? [data] : [data, Buffer.alloc(512 - rest)];
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len)
    len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** Builds an uncompressed tar of the members, using PAX records for long or non-ASCII names. */
export function buildTar(members: readonly RawMember[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    const data = m.data ?? Buffer.alloc(0);
    const linkname = m.linkname ?? '';
    const needsPax = (s: string): boolean => Buffer.byteLength(s) > 99 || /[^\x20-\x7e]/.test(s);
    let records = '';
    if (needsPax(m.name)) records += paxRecord('path', m.name);
    if (needsPax(linkname)) records += paxRecord('linkpath', linkname);
    if (records !== '') {
      const pax = Buffer.from(records, 'utf8');
      parts.push(header('PaxHeader', 'x', pax.length, 0o644, ''), ...pad(pax));
    }
    const mode = m.mode ?? (m.type === '5' ? 0o755 : 0o644);
    const ascii = (s: string): string =>
      needsPax(s) ? s.replace(/[^\x20-\x7e]/g, '_').slice(0, 99) : s;
    parts.push(
      header(ascii(m.name), m.type, m.type === '0' ? data.length : 0, mode, ascii(linkname)),
    );
    if (m.type === '0') parts.push(...pad(data));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
