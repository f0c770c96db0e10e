import { describe, expect, it } from 'vitest';
import { ManualClock, SystemClock } from './clock';

describe('clock', () => {
  it('system clock: Date and epoch ms agree', () => {
    const c = new SystemClock();
    const a = c.nowMs();
    const d = c.now().getTime();
    expect(Math.abs(d - a)).toBeLessThan(1000);
  });

  it('manual clock moves only by hand', () => {
    const c = new ManualClock(1000);
    expect(c.nowMs()).toBe(1000);
    c.advance(500);
    expect(c.now()).toEqual(new Date(1500));
    c.set(10);
    expect(c.nowMs()).toBe(10);
  });
});
