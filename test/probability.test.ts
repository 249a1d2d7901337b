import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatFixedExact, probabilityFor } from '../src/proxy/iptables/probability.js';
import { conformancePath } from './helpers.js';

describe('balancing probabilities', () => {
  const reference = parse(readFileSync(conformancePath('iptables/compute-probability/probabilities.yaml'), 'utf8')) as {
    values: Record<string, string>;
  };

  it.each(Object.entries(reference.values))('n = %s prints as kube-proxy does', (n, expected) => {
    expect(probabilityFor(Number(n))).toBe(expected);
  });

  it('rounds exact ties to even like Go, not up like toFixed', () => {
    expect(probabilityFor(2048)).toBe('0.0004882812');
    expect((1 / 2048).toFixed(10)).toBe('0.0004882813');
  });

  it('strictly increases as fewer endpoints remain', () => {
    let previous = -1;
    for (let n = 100000; n >= 2; n--) {
      const value = Number.parseFloat(probabilityFor(n));
      expect(value).toBeGreaterThan(previous);
      previous = value;
    }
  });

  it('agrees with toFixed whenever the value is not an exact tie', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5_000_000 }), (n) => {
        const exact = formatFixedExact(1 / n, 10);
        const scaled = (1 / n) * 1e10;
        const isTie = Math.abs(scaled - Math.floor(scaled) - 0.5) < 1e-6;
        if (!isTie) expect(exact).toBe((1 / n).toFixed(10));
      }),
    );
  });
});
