import { createHash } from 'node:crypto';

/**
 * The FastCDC gear table: 256 pseudo-random 32-bit values, one per byte
 * value. It is part of the data format (it decides every chunk boundary), so
 * it is derived rather than pasted: entry i is the first four bytes, read
 * big-endian, of SHA-256 of the ASCII string `trove/fastcdc/gear/v1/<i>`
 * (i in decimal). Any language with SHA-256 can regenerate it exactly.
 */
export const GEAR_SEED = 'trove/fastcdc/gear/v1/';

function buildGear(): Int32Array {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    table[i] = createHash('sha256').update(`${GEAR_SEED}${i}`).digest().readInt32BE(0);
  }
  return table;
}

/**
 * The gear table (read-only by convention), stored as signed 32-bit values
 * because V8 keeps int32 in registers while large uint32 values become heap
 * numbers; the bits are the same.
 */
export const GEAR: Int32Array = buildGear();
