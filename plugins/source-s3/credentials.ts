/**
 * Where S3 users expect credentials, in this order: the plugin options, the environment, the shared
 * credentials file (a profile), and, only when `credentials: 'instance'` is configured, the EC2 instance
 * metadata service (IMDSv2). The instance step is opt-in because it talks to another host (169.254.169.254).
 */
import { promises as fsp } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PxeError } from 'pxekit';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Temporary credentials (instance role) expire; refreshed a few minutes before. */
  expiration?: Date;
  source: 'options' | 'env' | 'profile' | 'instance';
}

export interface CredentialOptions {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  profile?: string;
  /** `chain` (options, env, profile) or `instance` (the same, then the instance role). */
  credentials: 'chain' | 'instance';
  timeoutMs: number;
}

/** A tiny INI reader for `~/.aws/credentials`: `[section]`, `key = value`, `#`/`;` comments. */
export function parseIni(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = Object.create(null) as Record<string, Record<string, string>>;
  let section: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (sec) {
      const name = sec[1]!.replace(/^profile\s+/, '');
      section = out[name] ??= Object.create(null) as Record<string, string>;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0 || !section) continue;
    section[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  return out;
}

/** Keys from a profile of the shared credentials file, or undefined when the file or profile is absent. */
export async function profileCredentials(
  profile: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<S3Credentials | undefined> {
  const file = env['AWS_SHARED_CREDENTIALS_FILE'] ?? join(homedir(), '.aws', 'credentials');
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const sec = parseIni(text)[profile];
  const id = sec?.['aws_access_key_id'];
  const secret = sec?.['aws_secret_access_key'];
  if (!id || !secret) return undefined;
  const token = sec['aws_session_token'];
  return { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}), source: 'profile' };
}

/** Options, then env, then the profile file. Undefined means: no credentials (anonymous requests). */
export async function chainCredentials(
  o: CredentialOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<S3Credentials | undefined> {
  if (o.accessKeyId && o.secretAccessKey) {
    return {
      accessKeyId: o.accessKeyId,
      secretAccessKey: o.secretAccessKey,
      ...(o.sessionToken ? { sessionToken: o.sessionToken } : {}),
      source: 'options',
    };
  }
  if (!o.profile) {
    const id = env['AWS_ACCESS_KEY_ID'];
    const secret = env['AWS_SECRET_ACCESS_KEY'];
    const token = env['AWS_SESSION_TOKEN'];
    if (id && secret)
      return { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}), source: 'env' };
  }
  return profileCredentials(o.profile ?? env['AWS_PROFILE'] ?? 'default', env);
}

/**
 * IMDSv2: a session token (PUT), the role name, then the role's temporary keys. The endpoint can be
 * moved with AWS_EC2_METADATA_SERVICE_ENDPOINT (as the AWS SDKs allow) and the step disabled with
 * AWS_EC2_METADATA_DISABLED=true.
 */
export async function instanceCredentials(
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<S3Credentials> {
  if ((env['AWS_EC2_METADATA_DISABLED'] ?? '').toLowerCase() === 'true') {
    throw new PxeError('PXE_ERR_FILE_SOURCE', 'instance credentials requested but AWS_EC2_METADATA_DISABLED=true', {
      fix: 'unset AWS_EC2_METADATA_DISABLED, or configure keys',
    });
  }
  const base = (env['AWS_EC2_METADATA_SERVICE_ENDPOINT'] ?? 'http://169.254.169.254').replace(/\/+$/, '');
  const call = async (path: string, init: RequestInit = {}) => {
    const r = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${r.status}`);
    return r.text();
  };
  try {
    const token = await call('/latest/api/token', {
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' },
    });
    const headers = { 'x-aws-ec2-metadata-token': token };
    const role = (await call('/latest/meta-data/iam/security-credentials/', { headers })).split('\n')[0]?.trim();
    if (!role) throw new Error('no instance role attached');
    const c = JSON.parse(
      await call(`/latest/meta-data/iam/security-credentials/${encodeURIComponent(role)}`, { headers }),
    ) as Record<string, string>;
    if (!c['AccessKeyId'] || !c['SecretAccessKey']) throw new Error('instance role answer has no keys');
    return {
      accessKeyId: c['AccessKeyId'],
      secretAccessKey: c['SecretAccessKey'],
      ...(c['Token'] ? { sessionToken: c['Token'] } : {}),
      ...(c['Expiration'] ? { expiration: new Date(c['Expiration']) } : {}),
      source: 'instance',
    };
  } catch (err) {
    throw new PxeError(
      'PXE_ERR_FILE_SOURCE',
      `instance metadata credentials failed: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
        fix: 'attach an IAM role to the instance, or configure keys (options, AWS_ACCESS_KEY_ID, a profile)',
      },
    );
  }
}

/** Keeps the current credentials and refreshes temporary ones five minutes before they expire. */
export class CredentialProvider {
  #current: S3Credentials | undefined;
  #loaded = false;
  #pending: Promise<S3Credentials | undefined> | undefined;
  constructor(
    private readonly o: CredentialOptions,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async get(): Promise<S3Credentials | undefined> {
    const exp = this.#current?.expiration;
    if (this.#loaded && (!exp || exp.getTime() - Date.now() > 5 * 60_000)) return this.#current;
    this.#pending ??= this.#load().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #load(): Promise<S3Credentials | undefined> {
    let c = await chainCredentials(this.o, this.env);
    if (!c && this.o.credentials === 'instance') c = await instanceCredentials(this.o.timeoutMs, this.env);
    this.#current = c;
    this.#loaded = true;
    return c;
  }
}
