import { describe, expect, it } from 'vitest';
import { COUNTED_PATHS, RequestCounter } from './request-counter';

describe('RequestCounter', () => {
  it('counts per exact path, query included', () => {
    const c = new RequestCounter();
    c.record('/a');
    c.record('/a');
    c.record('/a?x=1');
    expect(c.count('/a')).toBe(2);
    expect(c.count('/a?x=1')).toBe(1);
    expect(c.count('/b')).toBe(0);
  });

  it('stays bounded: the oldest paths are forgotten', () => {
    const c = new RequestCounter();
    for (let i = 0; i <= COUNTED_PATHS; i++) c.record(`/p/${i}`);
    expect(c.count('/p/0')).toBe(0);
    expect(c.count(`/p/${COUNTED_PATHS}`)).toBe(1);
  });
});
