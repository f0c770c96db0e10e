import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { infraBackend } from '../src';

describe('redis (real)', () => {
  it('starts, serves commands and stops', async () => {
    const redis = await infraBackend().redis();
    try {
      const client = new Redis(redis.info.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      await client.connect();
      await client.set('k', 'v', 'EX', 60);
      expect(await client.get('k')).toBe('v');
      await client.quit();
    } finally {
      await redis.stop();
    }
  });
});
