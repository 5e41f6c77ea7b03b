import { describe, expect, it } from 'vitest';
import { mapS3Error } from './errors.js';

const where = { op: 'HeadBucket', bucket: 'b-1', endpoint: 'https://s3.example' };

function sdkError(name: string, status?: number): Error {
  const err = new Error(`${name} happened`);
  err.name = name;
  if (status !== undefined) Object.assign(err, { $metadata: { httpStatusCode: status } });
  return err;
}

describe('mapS3Error', () => {
  it('tells apart missing credentials from rejected ones', () => {
    const missing = mapS3Error(sdkError('CredentialsProviderError'), where);
    expect(missing.code).toBe('invalid_config');
    expect(missing.message).toContain('no S3 credentials found');
    expect(missing.message).toContain('TROVE_S3_ACCESS_KEY_ID');
    const rejected = mapS3Error(sdkError('InvalidAccessKeyId', 403), where);
    expect(rejected.code).toBe('invalid_config');
    expect(rejected.message).toContain('credentials rejected');
  });

  it('names a missing bucket and treats 5xx and throttling as unavailable', () => {
    expect(mapS3Error(sdkError('NoSuchBucket', 404), where).message).toContain('create it');
    expect(mapS3Error(sdkError('InternalError', 500), where).code).toBe('unavailable');
    expect(mapS3Error(sdkError('SlowDown', 503), where).code).toBe('unavailable');
  });
});
