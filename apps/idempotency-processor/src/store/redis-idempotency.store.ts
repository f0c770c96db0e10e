import { type Redis } from 'ioredis';
import {
  type AcquireResult,
  type Completion,
  type IdempotencyStore,
  type StoredResponse,
} from './idempotency.store';

// One hash per entry: state (in-flight | done), fp, owner; once done also status, headers
// (JSON pairs), body (bytes) and stored (1 | 0). Each script is one atomic step in Redis.

/** Create the in-flight lock if no entry exists, else return the entry. */
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'state', 'in-flight', 'fp', ARGV[1], 'owner', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'acquired'}
end
return redis.call('HMGET', KEYS[1], 'state', 'fp', 'status', 'headers', 'body', 'stored')
`;

/** The owner's lock becomes the completed entry, in place (never deleted in between). */
const COMPLETE = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'state') ~= 'in-flight' then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'done', 'status', ARGV[2], 'headers', ARGV[3], 'body', ARGV[4], 'stored', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 1
`;

/** Delete the lock if it is still the owner's and still in flight. */
const RELEASE = `
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] and redis.call('HGET', KEYS[1], 'state') == 'in-flight' then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

type Reply = (Buffer | null)[];

interface IdempotencyCommands {
  idemAcquireBuffer(key: string, fp: string, owner: string, ttlMs: number): Promise<Reply>;
  idemComplete(
    key: string,
    owner: string,
    status: number,
    headers: string,
    body: Buffer,
    stored: string,
    retentionMs: number,
  ): Promise<number>;
  idemRelease(key: string, owner: string): Promise<number>;
}

/** The store on Redis (ioredis; scripts sent by SHA once loaded). */
export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly cmd: IdempotencyCommands;

  constructor(client: Redis) {
    client.defineCommand('idemAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    client.defineCommand('idemComplete', { numberOfKeys: 1, lua: COMPLETE });
    client.defineCommand('idemRelease', { numberOfKeys: 1, lua: RELEASE });
    this.cmd = client as unknown as IdempotencyCommands;
  }

  async acquire(
    key: string,
    lock: { fingerprint: string; owner: string; lockTtlMs: number },
  ): Promise<AcquireResult> {
    const r = await this.cmd.idemAcquireBuffer(key, lock.fingerprint, lock.owner, lock.lockTtlMs);
    if (r.length === 1) return { kind: 'acquired' };
    const [state, fp, status, headers, body, stored] = r;
    const fingerprint = fp?.toString('utf8') ?? '';
    if (state?.toString('utf8') !== 'done') return { kind: 'in-flight', fingerprint };
    const code = Number(status?.toString('utf8') ?? 0);
    if (stored?.toString('utf8') !== '1') {
      return { kind: 'completed-not-stored', fingerprint, status: code };
    }
    const response: StoredResponse = {
      status: code,
      headers: parseHeaders(headers ?? null),
      body: body ?? Buffer.alloc(0),
    };
    return { kind: 'completed', fingerprint, response };
  }

  async complete(
    key: string,
    owner: string,
    completion: Completion,
    retentionMs: number,
  ): Promise<boolean> {
    const r = completion.stored
      ? await this.cmd.idemComplete(
          key,
          owner,
          completion.response.status,
          JSON.stringify(completion.response.headers),
          completion.response.body,
          '1',
          retentionMs,
        )
      : await this.cmd.idemComplete(
          key,
          owner,
          completion.status,
          '[]',
          Buffer.alloc(0),
          '0',
          retentionMs,
        );
    return r === 1;
  }

  async release(key: string, owner: string): Promise<boolean> {
    return (await this.cmd.idemRelease(key, owner)) === 1;
  }
}

function parseHeaders(raw: Buffer | null): [string, string][] {
  if (raw === null) return [];
  const v: unknown = JSON.parse(raw.toString('utf8'));
  if (!Array.isArray(v)) return [];
  return v.filter(
    (p): p is [string, string] =>
      Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string',
  );
}
