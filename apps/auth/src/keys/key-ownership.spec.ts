import { describe, expect, it } from 'vitest';
import {
  childAncestry,
  childExpiry,
  issuedAfterCutOff,
  manages,
  mayRotate,
  tokensNotBeforeAfterRotation,
} from './key-ownership';

const root = { keyId: 'ak_root', ancestorKeyIds: [] };
const child = { keyId: 'ak_child', ancestorKeyIds: ['ak_root'] };
const sibling = { keyId: 'ak_sib', ancestorKeyIds: ['ak_root'] };
const grandchild = { keyId: 'ak_gc', ancestorKeyIds: childAncestry(child) };

describe('manages', () => {
  it('a key manages itself and its descendants only', () => {
    expect(manages('ak_root', root)).toBe(true);
    expect(manages('ak_root', child)).toBe(true);
    expect(manages('ak_root', grandchild)).toBe(true);
    expect(manages('ak_child', child)).toBe(true);
    expect(manages('ak_child', grandchild)).toBe(true);
    // never up or sideways
    expect(manages('ak_child', root)).toBe(false);
    expect(manages('ak_child', sibling)).toBe(false);
    expect(manages('ak_gc', child)).toBe(false);
    expect(manages('ak_sib', grandchild)).toBe(false);
  });

  it('ancestry is root first', () => {
    expect(grandchild.ancestorKeyIds).toEqual(['ak_root', 'ak_child']);
  });
});

describe('childExpiry', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const in1h = new Date(now.getTime() + 3_600_000);

  it('a child of a non-expiring credential gets what it asks for', () => {
    expect(childExpiry(now, undefined, null)).toEqual({ ok: true, expiresAt: null });
    expect(childExpiry(now, 60, null)).toEqual({
      ok: true,
      expiresAt: new Date(now.getTime() + 60_000),
    });
  });

  it("inherits the caller's end, may be shorter, never longer", () => {
    expect(childExpiry(now, undefined, in1h)).toEqual({ ok: true, expiresAt: in1h });
    expect(childExpiry(now, 3600, in1h)).toEqual({ ok: true, expiresAt: in1h });
    expect(childExpiry(now, 60, in1h)).toMatchObject({ ok: true });
    expect(childExpiry(now, 3601, in1h)).toMatchObject({ ok: false });
  });
});

describe('mayRotate', () => {
  const t = (s: number) => new Date(Date.UTC(2030, 0, 1) + s * 1000);

  it('a non-expiring credential may rotate anything it manages', () => {
    expect(mayRotate(null, null)).toBe(true);
    expect(mayRotate(null, t(10))).toBe(true);
  });

  it('a shorter-lived credential (token, old secret in grace) cannot mint a longer-lived secret', () => {
    expect(mayRotate(t(300), null)).toBe(false);
    expect(mayRotate(t(300), t(301))).toBe(false);
    expect(mayRotate(t(300), t(300))).toBe(true);
    expect(mayRotate(t(300), t(10))).toBe(true);
  });
});

describe('rotation cut-off for tokens', () => {
  it('is the next whole second, strictly after every iat minted up to the rotation', () => {
    const at = new Date('2030-01-01T00:00:10.400Z');
    const cut = tokensNotBeforeAfterRotation(at);
    expect(cut.toISOString()).toBe('2030-01-01T00:00:11.000Z');
    expect(tokensNotBeforeAfterRotation(new Date('2030-01-01T00:00:10.000Z')).toISOString()).toBe(
      '2030-01-01T00:00:11.000Z',
    );
    const sec = (d: Date) => Math.floor(d.getTime() / 1000);
    expect(issuedAfterCutOff(sec(at), cut)).toBe(false); // minted in the rotation's second
    expect(issuedAfterCutOff(sec(at) - 100, cut)).toBe(false);
    expect(issuedAfterCutOff(sec(cut), cut)).toBe(true);
    expect(issuedAfterCutOff(sec(at) - 100, null)).toBe(true);
  });
});
