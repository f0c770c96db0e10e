import { describe, expect, it } from 'vitest';
import { tokenLifetimeProblem } from './token-lifetime';

const NOW = 1_800_000_000;

describe('tokenLifetimeProblem', () => {
  it('accepts a token within the bound', () => {
    expect(tokenLifetimeProblem({ iat: NOW - 10, exp: NOW + 290 }, 300, NOW, 5)).toBeUndefined();
    expect(tokenLifetimeProblem({ iat: NOW, exp: NOW + 300 }, 300, NOW, 5)).toBeUndefined();
  });

  it('requires iat and exp as numbers', () => {
    expect(tokenLifetimeProblem({ exp: NOW + 10 }, 300, NOW, 5)).toBe('Token has no iat');
    expect(tokenLifetimeProblem({ iat: String(NOW), exp: NOW + 10 }, 300, NOW, 5)).toBe(
      'Token has no iat',
    );
    expect(tokenLifetimeProblem({ iat: NOW }, 300, NOW, 5)).toBe('Token has no exp');
  });

  it('refuses longer lives, old tokens and future iat', () => {
    expect(tokenLifetimeProblem({ iat: NOW, exp: NOW + 301 }, 300, NOW, 5)).toMatch(/lifetime/);
    expect(tokenLifetimeProblem({ iat: NOW - 306, exp: NOW - 6 }, 300, NOW, 5)).toMatch(/old/);
    expect(tokenLifetimeProblem({ iat: NOW + 60, exp: NOW + 120 }, 300, NOW, 5)).toMatch(/future/);
  });
});
