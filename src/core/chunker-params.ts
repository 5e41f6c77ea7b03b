/**
 * FastCDC parameters. They are part of the data format: changing any of them
 * changes every chunk boundary, so a change needs a new CHUNKER_ID. The values
 * were chosen by `bench/chunker-params.ts` (numbers in docs/formats.md).
 */

/** Minimum, target average and maximum chunk size in bytes. */
export interface ChunkerParams {
  /** No cut is made before this many bytes (unless the input ends). */
  min: number;
  /** Target average chunk size; must be a power of two. */
  avg: number;
  /** A cut is forced at this many bytes. */
  max: number;
}

const KIB = 1024;

/** The parameters every trove client uses. */
export const CHUNKER_PARAMS: Readonly<ChunkerParams> = Object.freeze({
  min: 16 * KIB,
  avg: 64 * KIB,
  max: 256 * KIB,
});

/** Identifier of the chunker and its parameters, recorded in every manifest header. */
export function chunkerId(params: ChunkerParams): string {
  return `fastcdc-v1-${params.min / KIB}k-${params.avg / KIB}k-${params.max / KIB}k`;
}

/** The chunker id of CHUNKER_PARAMS, e.g. `fastcdc-v1-16k-64k-256k`. */
export const CHUNKER_ID: string = chunkerId(CHUNKER_PARAMS);

/** Largest raw chunk any valid manifest or pack may contain. */
export const MAX_CHUNK_SIZE: number = CHUNKER_PARAMS.max;
