import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalizeIptables, goStableSort } from '../src/render/canonical.js';
import { conformancePath } from './helpers.js';

const dir = conformancePath('iptables/canonicalize-sort');

describe('canonicalizeIptables (conformance canonicalize-sort)', () => {
  for (const name of readdirSync(dir).sort()) {
    it(name, () => {
      const input = readFileSync(path.join(dir, name, 'input.iptables'), 'utf8');
      const expected = readFileSync(path.join(dir, name, 'expected.iptables'), 'utf8');
      expect(canonicalizeIptables(input)).toBe(expected);
      // The canonical form is a fixed point.
      expect(canonicalizeIptables(expected)).toBe(expected);
    });
  }
});

describe('canonicalizeIptables on full payloads', () => {
  it('is the identity on an expected.iptables that is already canonical', () => {
    const expected = readFileSync(conformancePath('iptables/overall-iptables-rules/expected.iptables'), 'utf8');
    expect(canonicalizeIptables(expected)).toBe(expected);
  });

  it('prints -X lines after all rules and keeps the nodeports rule last', () => {
    const input = [
      '*nat',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-SVC-OLD - [0:0]',
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -j KUBE-NODEPORTS',
      '-X KUBE-SVC-OLD',
      '-A KUBE-SERVICES -m comment --comment "a/b:p cluster IP" -j X',
      'COMMIT',
      '',
    ].join('\n');
    expect(canonicalizeIptables(input)).toBe(
      [
        '*nat',
        ':KUBE-SERVICES - [0:0]',
        ':KUBE-SVC-OLD - [0:0]',
        '-A KUBE-SERVICES -m comment --comment "a/b:p cluster IP" -j X',
        '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -j KUBE-NODEPORTS',
        '-X KUBE-SVC-OLD',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });
});

describe('goStableSort', () => {
  it('is a stable sort for a strict weak order', () => {
    const items = Array.from({ length: 300 }, (_, i) => ({ key: (i * 7919) % 13, i }));
    const sorted = [...items];
    goStableSort(sorted, (a, b) => a.key < b.key);
    const reference = [...items].sort((a, b) => a.key - b.key || a.i - b.i);
    expect(sorted).toEqual(reference);
  });
});
