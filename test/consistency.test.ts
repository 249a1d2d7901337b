import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRuleJumps } from '../src/ir/consistency.js';
import { conformancePath } from './helpers.js';

const dir = conformancePath('iptables/consistency-check');

describe('checkRuleJumps (conformance consistency-check)', () => {
  for (const name of readdirSync(dir).sort()) {
    it(name, () => {
      const input = readFileSync(path.join(dir, name, 'input.iptables'), 'utf8');
      const expected = readFileSync(path.join(dir, name, 'expected-error.txt'), 'utf8').trim();
      const errors = checkRuleJumps(input);
      if (expected === '') expect(errors).toEqual([]);
      else expect(errors[0]?.startsWith(expected), errors[0]).toBe(true);
    });
  }

  it('accepts the full expected payload of TestOverallIPTablesRules', () => {
    const text = readFileSync(conformancePath('iptables/overall-iptables-rules/expected.iptables'), 'utf8');
    expect(checkRuleJumps(text)).toEqual([]);
  });

  it('sorts the chain list and honours -X', () => {
    const text = [
      '*nat',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-SVC-B - [0:0]',
      ':KUBE-SVC-OLD - [0:0]',
      '-A KUBE-SERVICES -j KUBE-SVC-B',
      '-A KUBE-SERVICES -j KUBE-SVC-A',
      '-A KUBE-SVC-B -j ACCEPT',
      '-X KUBE-SVC-OLD',
      'COMMIT',
    ].join('\n');
    expect(checkRuleJumps(text)).toEqual(['some chains in nat are used but were not created: [KUBE-SVC-A]']);
  });
});
