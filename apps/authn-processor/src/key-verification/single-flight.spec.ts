import { describe, expect, it } from 'vitest';
import { SingleFlight } from './single-flight';

describe('SingleFlight', () => {
  it('runs concurrent calls with the same key once and shares the result', async () => {
    const sf = new SingleFlight<number>();
    let calls = 0;
    let release!: (n: number) => void;
    const fn = () => {
      calls++;
      return new Promise<number>((r) => (release = r));
    };
    const a = sf.run('k', fn);
    const b = sf.run('k', fn);
    expect(sf.size).toBe(1);
    release(42);
    expect(await Promise.all([a, b])).toEqual([42, 42]);
    expect(calls).toBe(1);
    expect(sf.size).toBe(0);
  });

  it('shares failures too and forgets them once settled', async () => {
    const sf = new SingleFlight<number>();
    let calls = 0;
    const fail = () => {
      calls++;
      return Promise.reject(new Error('boom'));
    };
    const results = await Promise.allSettled([sf.run('k', fail), sf.run('k', fail)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
    await expect(sf.run('k', () => Promise.resolve(1))).resolves.toBe(1);
  });

  it('does not coalesce different keys', async () => {
    const sf = new SingleFlight<string>();
    const out = await Promise.all([
      sf.run('a', () => Promise.resolve('a')),
      sf.run('b', () => Promise.resolve('b')),
    ]);
    expect(out).toEqual(['a', 'b']);
  });
});
