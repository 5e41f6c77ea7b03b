import type { S3Client } from '@aws-sdk/client-s3';
import type { BlobStore } from '../../../../ports/blob-store.js';
import { type RunningS3rver, startS3rver } from '../../../../testing/s3rver.js';
import { checkedBlobStore } from '../../checked.js';
import type { BlobStoreHarness } from '../../testing/harness.js';
import { createS3Client, type S3BlobStoreOptions } from '../client.js';
import { S3BlobStore } from '../s3-blob-store.js';

/** An S3BlobStore on a fresh s3rver process. */
export interface S3BlobHarness extends BlobStoreHarness {
  /** The running s3rver. */
  s3: RunningS3rver;
  /** The unwrapped driver. */
  driver: S3BlobStore;
  /** The checked store, as the server uses it. */
  store: BlobStore;
  /** A raw client on the same endpoint, for white-box checks. */
  client: S3Client;
  /** Options the driver was built from (to build variants). */
  options: S3BlobStoreOptions;
}

/** Starts s3rver and an S3BlobStore on it; `extra` overrides store options. */
export async function openS3BlobHarness(
  extra: Partial<S3BlobStoreOptions> = {},
): Promise<S3BlobHarness> {
  const s3 = await startS3rver();
  const options: S3BlobStoreOptions = {
    bucket: s3.bucket,
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ...extra,
  };
  const driver = new S3BlobStore(options);
  const client = createS3Client(options);
  return {
    s3,
    driver,
    client,
    options,
    store: checkedBlobStore(driver),
    // s3rver checks expiry and the access key id only: no SigV4, no checksums.
    enforcesPresignedIntegrity: false,
    verifiesSignatures: false,
    servesFirstByteRange: false,
    async close() {
      client.destroy();
      await s3.stop();
    },
  };
}
