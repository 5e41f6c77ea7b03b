import { expect } from 'vitest';
import { TroveError } from '../../../errors.js';
import type { BlobStore } from '../../../ports/blob-store.js';

/** Shared pieces of the BlobStore conformance suites (imported by each, importing none). */

/** What a conformance run needs from an adapter. */
export interface BlobStoreHarness {
  /** The store as the server uses it: wrapped in `checkedBlobStore`. */
  store: BlobStore;
  /** Releases everything `open` created. */
  close(): Promise<void>;
  /** Base URL presigned URLs are resolved against; presigned tests are skipped without it. */
  fetchBase?: string;
  /**
   * Moves the store's clock forward, when the adapter allows it, so expiry is
   * tested without waiting; otherwise the suite sleeps past the expiry.
   */
  advanceClock?(ms: number): void;
  /**
   * Whether the backend itself refuses a presigned PUT whose bytes or length
   * differ from the signed size and SHA-256. False for s3rver: the suite then
   * asserts the wrong bytes were stored and that trove's digest check (what
   * commit runs) tells them apart, instead of skipping.
   */
  enforcesPresignedIntegrity: boolean;
  /**
   * Whether the backend verifies presigned signatures (tampered signature,
   * another key, another method). False for s3rver, which only checks expiry.
   */
  verifiesSignatures: boolean;
  /**
   * Whether a GET with `Range: bytes=0-0` returns one byte. s3rver returns the
   * whole object (it reads an end of 0 as "no end"); the client copes, and
   * S3BlobStore.get trims such answers itself.
   */
  servesFirstByteRange: boolean;
}

/** SHA-256 of zero bytes. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Asserts that a promise rejects with a TroveError of the given code. */
export async function expectTroveError(
  promise: Promise<unknown>,
  code: TroveError['code'],
): Promise<TroveError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected TroveError(${code})`).toBeInstanceOf(TroveError);
  expect((err as TroveError).code).toBe(code);
  return err as TroveError;
}
