/** Property tests: random kube-proxy-like rulesets survive restore and save round trips. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ruleFromArgs } from '../src/ir/args.js';
import type { IptablesRuleset, Rule, Table } from '../src/ir/iptables.js';
import { parseIptables } from '../src/parse/iptables.js';
import { renderRestore } from '../src/render/restore.js';
import { renderSave } from '../src/render/save.js';

const chainName = fc.constantFrom('KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-SVC-AAAA', 'KUBE-SEP-BBBB', 'KUBE-MARK-MASQ');
const comment = fc.string({ minLength: 0, maxLength: 12 }).filter((s) => !/[\n\r]/.test(s));
const ip = fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `10.${a}.${b}.1`);
const port = fc.integer({ min: 1, max: 65535 }).map(String);

/** Argument vectors in the shapes kube-proxy writes. */
const args: fc.Arbitrary<readonly string[]> = fc.oneof(
  fc.tuple(comment, ip, port, chainName).map(([c, d, p, j]) => ['-m', 'comment', '--comment', c, '-m', 'tcp', '-p', 'tcp', '-d', d, '--dport', p, '-j', j]),
  fc.tuple(comment, ip).map(([c, s]) => ['-m', 'comment', '--comment', c, '-s', s, '-j', 'KUBE-MARK-MASQ']),
  fc.tuple(comment, ip, port).map(([c, d, p]) => ['-m', 'comment', '--comment', c, '-m', 'tcp', '-p', 'tcp', '-j', 'DNAT', '--to-destination', `${d}:${p}`]),
  fc.tuple(fc.integer({ min: 2, max: 3000 }), chainName).map(([k, j]) => ['-m', 'statistic', '--mode', 'random', '--probability', (1 / k).toFixed(10), '-j', j]),
  fc.constant(['-m', 'mark', '!', '--mark', '0x4000/0x4000', '-j', 'RETURN']),
  fc.constant(['-j', 'MARK', '--xor-mark', '0x4000']),
  fc.tuple(ip, port).map(([d, p]) => ['-m', 'tcp', '-p', 'tcp', '-d', d, '--dport', p, '-j', 'REJECT']),
  fc.constant(['-m', 'addrtype', '--dst-type', 'LOCAL', '!', '-d', '127.0.0.0/8', '-j', 'KUBE-NODEPORTS']),
  comment.map((c) => ['-m', 'comment', '--comment', c]),
);

const table = (name: string): fc.Arbitrary<Table> =>
  fc.array(fc.tuple(chainName, args), { maxLength: 25 }).map((rules) => ({
    name,
    chains: ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-SVC-AAAA', 'KUBE-SEP-BBBB', 'KUBE-MARK-MASQ', 'KUBE-SVC-OLD'].map((c) => ({ name: c })),
    rules: rules.map(([chain, a]): Rule => ruleFromArgs(chain, a)),
    deletedChains: [{ name: 'KUBE-SVC-OLD', beforeRule: rules.length }],
  }));

const ruleset: fc.Arbitrary<IptablesRuleset> = fc
  .tuple(table('filter'), table('nat'))
  .map(([f, n]) => ({ family: 4, tables: [f, n] }));

function withoutOrigins(r: IptablesRuleset): unknown {
  return JSON.parse(JSON.stringify(r, (k, v) => (k === 'origin' ? undefined : v)));
}

describe('round trips', () => {
  it('parseIptables(renderRestore(x)) = x', () => {
    fc.assert(
      fc.property(ruleset, (x) => {
        const text = renderRestore(x);
        const parsed = parseIptables(text, 'x');
        expect(parsed.diagnostics).toEqual([]);
        expect(withoutOrigins(parsed.ruleset)).toEqual(withoutOrigins(x));
        expect(renderRestore(parsed.ruleset)).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it('renderSave is a fixed point of parse ∘ renderSave', () => {
    fc.assert(
      fc.property(ruleset, fc.constantFrom('legacy' as const, 'nft' as const), (x, backend) => {
        const saved = renderSave(x, { backend });
        const parsed = parseIptables(saved, 'saved');
        expect(parsed.diagnostics).toEqual([]);
        expect(renderSave(parsed.ruleset, { backend })).toBe(saved);
      }),
      { numRuns: 200 },
    );
  });
});
