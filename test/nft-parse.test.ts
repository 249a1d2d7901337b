/**
 * parse/nft.ts: rule statements, the two text formats, round trips on every compiled case, and diagnostics
 * (codes and positions, not prose).
 */
import { describe, expect, it } from 'vitest';
import type { NftRuleset, NftStatement } from '../src/ir/nftables.js';
import { parseNft, ruleFromText } from '../src/parse/nft.js';
import { renderNftDump } from '../src/render/nft-dump.js';
import { renderNftList, ruleListText } from '../src/render/nft-list.js';
import { compileCase, nftCaseDirs } from './nft-helpers.js';

function statements(text: string): NftStatement[] {
  const { rule, problems } = ruleFromText(text);
  expect(problems).toEqual([]);
  return rule.statements;
}

/** The ruleset as the dump orders it, without parse positions: what parse(render(x)) must give back. */
function dumpOrdered(ruleset: NftRuleset): NftRuleset {
  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    tables: ruleset.tables.map((t) => ({
      ...t,
      chains: [...t.chains].sort(byName).map((c) => ({ ...c, rules: c.rules.map(({ origin: _origin, ...r }) => r) })),
      sets: [...t.sets.filter((s) => s.kind === 'set').sort(byName), ...t.sets.filter((s) => s.kind === 'map').sort(byName)],
    })),
  };
}

describe('rule statements', () => {
  it('reads the statements kube-proxy writes', () => {
    expect(statements('ip daddr . meta l4proto . th dport vmap @service-ips')).toEqual([
      {
        kind: 'vmap',
        key: { kind: 'concat', parts: [{ kind: 'field', name: 'ip daddr' }, { kind: 'field', name: 'meta l4proto' }, { kind: 'field', name: 'th dport' }] },
        map: { kind: 'set-ref', name: 'service-ips' },
      },
    ]);
    expect(statements('fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports')).toMatchObject([
      { kind: 'match', left: { kind: 'field', name: 'fib daddr type' }, op: '==', right: { kind: 'value', value: 'local' } },
      { kind: 'match', left: { name: 'ip daddr' }, op: '!=', right: { kind: 'value', value: '127.0.0.0/8' } },
      { kind: 'vmap', map: { kind: 'set-ref', name: 'service-nodeports' } },
    ]);
    expect(statements('ct state new jump firewall-check')).toEqual([
      { kind: 'match', left: { kind: 'field', name: 'ct state' }, op: '==', right: { kind: 'value', value: 'new' } },
      { kind: 'verdict', verdict: { kind: 'jump', chain: 'firewall-check' } },
    ]);
    expect(statements('mark and 0x4000 == 0 return')).toEqual([
      {
        kind: 'match',
        left: { kind: 'bitwise', op: 'and', left: { kind: 'field', name: 'meta mark' }, value: '0x4000' },
        op: '==',
        right: { kind: 'value', value: '0' },
      },
      { kind: 'verdict', verdict: { kind: 'return' } },
    ]);
    expect(statements('mark set mark or 0x4000')).toEqual([
      { kind: 'set-field', field: 'meta mark', value: { kind: 'bitwise', op: 'or', left: { kind: 'field', name: 'meta mark' }, value: '0x4000' } },
    ]);
    expect(statements('masquerade fully-random')).toEqual([{ kind: 'masquerade', flags: ['fully-random'] }]);
    expect(statements('meta l4proto tcp dnat to 10.180.0.1:80')).toEqual([
      { kind: 'match', left: { kind: 'field', name: 'meta l4proto' }, op: '==', right: { kind: 'value', value: 'tcp' } },
      { kind: 'nat', type: 'dnat', address: '10.180.0.1', port: 80, flags: [] },
    ]);
    expect(statements('meta l4proto tcp dnat to [fd00::1]:8080')[1]).toEqual({ kind: 'nat', type: 'dnat', address: 'fd00::1', port: 8080, flags: [] });
    expect(statements('numgen random mod 2 vmap { 0 : goto endpoint-A , 1 : goto endpoint-B }')).toEqual([
      {
        kind: 'vmap',
        key: { kind: 'numgen', mode: 'random', mod: 2 },
        map: {
          kind: 'anon-set',
          elements: [
            { key: ['0'], value: { kind: 'verdict', verdict: { kind: 'goto', chain: 'endpoint-A' } } },
            { key: ['1'], value: { kind: 'verdict', verdict: { kind: 'goto', chain: 'endpoint-B' } } },
          ],
        },
      },
    ]);
    expect(statements('update @affinity-X { ip saddr }')).toEqual([
      { kind: 'set-update', op: 'update', set: 'affinity-X', key: { kind: 'field', name: 'ip saddr' } },
    ]);
    expect(statements('ip saddr @affinity-X goto endpoint-X')).toMatchObject([
      { kind: 'match', right: { kind: 'set-ref', name: 'affinity-X' } },
      { kind: 'verdict', verdict: { kind: 'goto', chain: 'endpoint-X' } },
    ]);
    expect(statements('ip saddr != { 203.0.113.0/25 , 5.6.7.8 } drop')).toEqual([
      {
        kind: 'match',
        left: { kind: 'field', name: 'ip saddr' },
        op: '!=',
        right: { kind: 'anon-set', elements: [{ key: ['203.0.113.0/25'] }, { key: ['5.6.7.8'] }] },
      },
      { kind: 'verdict', verdict: { kind: 'drop' } },
    ]);
    expect(statements('ip daddr { 10.96.0.0/16,172.30.0.0/16 } drop')[0]).toMatchObject({
      right: { kind: 'anon-set', elements: [{ key: ['10.96.0.0/16'] }, { key: ['172.30.0.0/16'] }] },
    });
    expect(statements('iif != cbr0 jump x')[0]).toEqual({ kind: 'match', left: { kind: 'field', name: 'iif' }, op: '!=', right: { kind: 'value', value: 'cbr0' } });
    expect(statements('counter reject')).toEqual([{ kind: 'counter' }, { kind: 'reject' }]);
    expect(statements('ct state established,related accept')[0]).toMatchObject({ right: { kind: 'value', value: 'established,related' } });
  });

  it('keeps the text as written and the comment apart', () => {
    const { rule } = ruleFromText('ip saddr 10.0.0.0/8 goto service-X comment "short-circuit pod traffic"');
    expect(rule.text).toBe('ip saddr 10.0.0.0/8 goto service-X');
    expect(rule.comment).toBe('short-circuit pod traffic');
  });

  it('reports what it cannot read, with the offset', () => {
    expect(ruleFromText('ip daddr { 1.2.3.4').problems).toEqual([{ message: 'missing "}"', at: 18, severity: 'error' }]);
    const unknown = ruleFromText('quota over 10 mbytes drop');
    expect(unknown.problems).toMatchObject([{ at: 0, severity: 'warning' }]);
    expect(unknown.rule.statements[0]).toMatchObject({ kind: 'unknown' });
  });

  it('prints statements in nft spelling', () => {
    const text = (t: string) => ruleListText(ruleFromText(t).rule);
    expect(text('mark set mark or 0x4000')).toBe('meta mark set meta mark | 0x00004000');
    expect(text('mark and 0x4000 == 0 return')).toBe('meta mark & 0x00004000 == 0x00000000 return');
    expect(text('ip saddr != { 203.0.113.0/25 } drop')).toBe('ip saddr != 203.0.113.0/25 drop');
    expect(text('ip saddr != { 9.9.9.0/24 , 5.6.7.8/32 } drop')).toBe('ip saddr != { 5.6.7.8, 9.9.9.0/24 } drop');
    // Checked against nft 1.0.6: overlapping and adjacent intervals merge; a merged single interval keeps braces.
    expect(text('ip saddr != { 10.0.0.0/8 , 10.1.0.0/16 } drop')).toBe('ip saddr != { 10.0.0.0/8 } drop');
    expect(text('ip saddr != { 10.0.0.0/9 , 10.128.0.0/9 , 5.6.7.8 , 5.6.7.8/32 } drop')).toBe('ip saddr != { 5.6.7.8, 10.0.0.0/8 } drop');
    expect(text('ip saddr != { 10.0.0.1 , 10.0.0.2 , 10.0.0.3 } drop')).toBe('ip saddr != { 10.0.0.1, 10.0.0.2, 10.0.0.3 } drop');
    expect(text('ip saddr != { 10.0.0.1 , 10.0.0.2/31 } drop')).toBe('ip saddr != { 10.0.0.1-10.0.0.3 } drop');
    expect(text('ip saddr != { 10.0.0.0/31 , 10.0.0.2 } drop')).toBe('ip saddr != { 10.0.0.0-10.0.0.2 } drop');
    expect(text('ip saddr != { 10.0.0.0/24 , 10.0.1.0/25 } drop')).toBe('ip saddr != { 10.0.0.0-10.0.1.127 } drop');
    expect(text('ip saddr != { 10.0.0.0/24 , 10.0.0.5 } drop')).toBe('ip saddr != { 10.0.0.0/24 } drop');
    expect(text('ip saddr != { 10.0.0.4/30 , 10.0.0.1 } drop')).toBe('ip saddr != { 10.0.0.1, 10.0.0.4/30 } drop');
    expect(text('ip saddr != { 10.0.0.0/25 , 10.0.0.64/26 , 10.0.0.128/25 } drop')).toBe('ip saddr != { 10.0.0.0/24 } drop');
    expect(text('ip saddr != { 10.0.0.0/31 , 10.0.0.2 , 10.0.0.3 } drop')).toBe('ip saddr != { 10.0.0.0/30 } drop');
    expect(text('ip saddr != { 10.0.0.1 , 10.0.0.2 , 10.0.0.3/32 } drop')).toBe('ip saddr != { 10.0.0.1-10.0.0.3 } drop');
    expect(text('ip saddr != { 10.0.0.3 , 10.0.0.3 } drop')).toBe('ip saddr != { 10.0.0.3 } drop');
    expect(text('ip saddr != { 10.0.0.2 , 10.0.0.1-10.0.0.1 } drop')).toBe('ip saddr != { 10.0.0.1-10.0.0.2 } drop');
    expect(text('numgen random mod 2 vmap { 0 : goto a , 1 : goto b }')).toBe('numgen random mod 2 vmap { 0 : goto a, 1 : goto b }');
    expect(text('numgen random mod 1 vmap { 0 : goto a }')).toBe('numgen random mod 1 vmap { 0 : goto a }');
    expect(text('counter drop comment "x"')).toBe('counter packets 0 bytes 0 drop comment "x"');
  });
});

describe('round trips on every compiled case', () => {
  for (const { name, dir } of nftCaseDirs()) {
    it(`${name}: parse(dump) gives the ruleset back`, () => {
      const ruleset = compileCase(dir);
      const dump = renderNftDump(ruleset);
      const parsed = parseNft(dump, 'dump.nft');
      expect(parsed.diagnostics).toEqual([]);
      expect(dumpOrdered(parsed.ruleset)).toEqual(dumpOrdered(ruleset));
      expect(renderNftDump(parsed.ruleset)).toBe(dump);
    });
    it(`${name}: parse(listing) prints the same listing`, () => {
      const ruleset = compileCase(dir);
      const listing = renderNftList(ruleset);
      const parsed = parseNft(listing, 'list.nft');
      expect(parsed.diagnostics).toEqual([]);
      expect(renderNftList(parsed.ruleset)).toBe(listing);
      // Same rules, statement by statement, in nft spelling.
      const rules = (r: NftRuleset) => r.tables.flatMap((t) => t.chains.flatMap((c) => c.rules.map((rule) => `${c.name}: ${ruleListText(rule)}`)));
      expect(rules(parsed.ruleset).sort()).toEqual(rules(ruleset).sort());
    });
  }
});

describe('diagnostics', () => {
  it('dump: codes and positions', () => {
    const text = [
      'add table ip t',
      'add chain ip t c',
      'add rule ip t missing drop',
      'frobnicate table ip t',
      'add rule ip t c jump nowhere',
      'add rule ip t c ip daddr { 1.2.3.4 drop',
      'add element ip t nosuchset { 1.2.3.4 }',
      'add chain ip nosuchtable c',
    ].join('\n');
    const { diagnostics } = parseNft(text, 'x.nft');
    expect(diagnostics.map((d) => [d.code, d.line, d.col])).toEqual([
      ['E_NFT_REFERENCE', 3, 15],
      ['E_NFT_SYNTAX', 4, 1],
      ['E_NFT_REFERENCE', 5, 17],
      ['E_NFT_SYNTAX', 6, 36],
      ['E_NFT_REFERENCE', 7, 18],
      ['E_NFT_REFERENCE', 8, 14],
    ]);
    expect(diagnostics.every((d) => d.file === 'x.nft')).toBe(true);
  });

  it('listing: codes and positions', () => {
    const text = ['table ip t {', '\tchain c {', '\t\tip daddr { 1.2.3.4 drop', '\t\tjump nowhere', '\t}', '}', 'bogus'].join('\n');
    const { diagnostics } = parseNft(text, 'l.nft');
    expect(diagnostics.map((d) => [d.code, d.line, d.col])).toEqual([
      ['E_NFT_SYNTAX', 3, 22],
      ['E_NFT_SYNTAX', 7, 1],
      ['E_NFT_REFERENCE', 4, 1],
    ]);
  });
});

describe('typed views built by the compiler', () => {
  for (const { name, dir } of nftCaseDirs()) {
    it(`${name}: every rule's statements are what the parser reads from its text`, () => {
      for (const table of compileCase(dir).tables) {
        for (const chain of table.chains) {
          for (const rule of chain.rules) expect(rule.statements, `${chain.name}: ${rule.text}`).toEqual(ruleFromText(rule.text).rule.statements);
        }
      }
    });
  }
});
