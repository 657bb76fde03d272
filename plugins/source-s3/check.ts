/**
 * source-s3's readiness check (`pxekit validate`): the bucket answers a HEAD with these credentials. No
 * answer is a warning (validate may run off the boot network; start does not fail, but nothing of this
 * source is served until the store answers); no such bucket, refused credentials or another region are errors.
 */
import type { CheckContext, CheckProblem } from 'pxekit';
import type { SourceS3Options } from './options.js';
import type { S3Store } from './store.js';

export async function checkSourceS3(
  { options: o, timeoutMs }: CheckContext<SourceS3Options>,
  make: () => Promise<{ store: S3Store; anonymous: boolean }>,
): Promise<CheckProblem[]> {
  const where = `s3://${o.bucket}${o.endpoint ? ` at ${o.endpoint}` : ''}`;
  let status: number;
  let anonymous: boolean;
  try {
    const made = await make();
    anonymous = made.anonymous;
    status = await made.store.probeBucket(Math.min(timeoutMs, o.timeoutMs));
  } catch (err) {
    return [
      {
        severity: 'warning',
        key: o.endpoint ? 'endpoint' : 'bucket',
        message: `bucket ${where} does not answer`,
        found: err instanceof Error ? err.message : String(err),
        expected: 'an answer to HEAD of the bucket',
        fix: 'check the endpoint and that this machine reaches it; if validate runs off the boot network, run it on the boot server',
      },
    ];
  }
  if (status < 300) return [];
  const base = { severity: 'error' as const, found: `HTTP ${status}` };
  if (status === 404)
    return [
      {
        ...base,
        key: 'bucket',
        message: `bucket ${where} does not exist`,
        expected: 'an existing bucket',
        fix: 'fix "bucket" (and "endpoint"), or create the bucket',
      },
    ];
  if (status === 403 || status === 401)
    return [
      {
        ...base,
        ...(anonymous ? {} : { key: 'bucket' }),
        message: anonymous
          ? `bucket ${where} refuses unsigned requests, and no credentials were found`
          : `the credentials may not read bucket ${where}`,
        expected: 'credentials allowed to read the bucket',
        fix: anonymous
          ? 'give accessKeyId/secretAccessKey, a profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the environment'
          : 'allow s3:ListBucket and s3:GetObject on the bucket for these credentials, or use others',
      },
    ];
  if (status === 301)
    return [
      {
        ...base,
        key: 'region',
        message: `bucket ${where} is in another region`,
        expected: "the bucket's region",
        fix: 'set "region" to the bucket\'s region (aws s3api get-bucket-location --bucket NAME)',
      },
    ];
  return [
    {
      ...base,
      severity: 'warning',
      key: 'bucket',
      message: `bucket ${where} answers HEAD with an unexpected status`,
      expected: 'HTTP 200',
      fix: "see the S3 store's logs",
    },
  ];
}
