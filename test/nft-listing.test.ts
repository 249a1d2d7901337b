/**
 * Listings printed by the real nft (1.0.6) after loading our dumps, kept as fixtures so the parser is tested on
 * nft's own output without root: kernel element order, `size 65535`, `counter packets 0 bytes 0`, `# handle N`,
 * and tables kube-proxy does not own.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NftRuleset } from '../src/ir/nftables.js';
import { findTable } from '../src/ir/nftables.js';
import { parseNft } from '../src/parse/nft.js';
import { renderNftList, ruleListText } from '../src/render/nft-list.js';
import { conformancePath, repoRoot } from './helpers.js';
import { compileCase, normalizeListing } from './nft-helpers.js';

const fixture = (name: string) => {
  const file = path.join(repoRoot, 'test', 'fixtures', 'nft-listings', name);
  return { file, text: readFileSync(file, 'utf8') };
};

/** kube-proxy's table as comparable text: rules per chain in order, and each set's sorted elements. */
function kubeProxyView(ruleset: NftRuleset): string[] {
  const table = findTable(ruleset, 'ip', 'kube-proxy');
  if (!table) return [];
  const lines: string[] = [];
  for (const chain of [...table.chains].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    // A base chain's policy is accept unless said otherwise; the kernel always lists it.
    const base = chain.base ? { ...chain.base, policy: chain.base.policy ?? 'accept' } : null;
    lines.push(`chain ${chain.name} ${JSON.stringify(base)} ${chain.comment ?? ''}`);
    for (const rule of chain.rules) lines.push(`  ${ruleListText(rule)}`);
  }
  for (const set of [...table.sets].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    lines.push(`${set.kind} ${set.name} ${set.type} ${set.dataType ?? ''} ${set.flags?.join(',') ?? ''} ${set.timeout ?? ''} ${set.comment ?? ''}`);
    const elements = set.elements.map((e) => JSON.stringify(e)).sort();
    for (const e of elements) lines.push(`  ${e}`);
  }
  return lines;
}

describe('listings printed by nft', () => {
  const compiled = compileCase(conformancePath('nftables/overall-rules'));

  it('reads the kernel listing of overall-rules into the compiled ruleset', () => {
    const { file, text } = fixture('overall-rules.kernel.nft');
    const parsed = parseNft(text, file);
    expect(parsed.diagnostics).toEqual([]);
    expect(kubeProxyView(parsed.ruleset)).toEqual(kubeProxyView(compiled));
    expect(normalizeListing(renderNftList(parsed.ruleset))).toBe(normalizeListing(text));
  });

  it('reads handles from `nft -a list ruleset`', () => {
    const { file, text } = fixture('overall-rules.handles.kernel.nft');
    const parsed = parseNft(text, file);
    expect(parsed.diagnostics).toEqual([]);
    expect(kubeProxyView(parsed.ruleset)).toEqual(kubeProxyView(compiled));
    const rules = findTable(parsed.ruleset, 'ip', 'kube-proxy')?.chains.flatMap((c) => c.rules) ?? [];
    expect(rules.every((r) => typeof r.handle === 'number' && r.handle > 0)).toBe(true);
  });

  it('reads other tables beside kube-proxy, reporting what it does not model', () => {
    const { file, text } = fixture('mixed-tables.kernel.nft');
    const parsed = parseNft(text, file);
    expect(parsed.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(parsed.diagnostics.map((d) => [d.code, d.line])).toEqual([
      ['W_NFT_UNSUPPORTED', 2],
      ['W_NFT_UNSUPPORTED', 24],
    ]);
    expect(kubeProxyView(parsed.ruleset)).toEqual(kubeProxyView(compiled));
    const filter = findTable(parsed.ruleset, 'inet', 'filter');
    expect(filter?.chains.map((c) => [c.name, c.base?.priority, c.base?.policy, c.rules.length])).toEqual([
      ['input', 0, 'drop', 5],
      ['forward', 0, 'accept', 2],
    ]);
    expect(filter?.sets[0]).toMatchObject({ name: 'allowed', flags: ['interval'], elements: [{ key: ['10.0.0.0/8'] }, { key: ['192.168.0.0/16'] }] });
    const nat = findTable(parsed.ruleset, 'ip', 'nat');
    expect(nat?.chains.find((c) => c.name === 'prerouting')?.rules[0]?.statements).toEqual([
      { kind: 'match', left: { kind: 'field', name: 'ip daddr' }, op: '==', right: { kind: 'value', value: '10.9.9.9' } },
      { kind: 'match', left: { kind: 'field', name: 'tcp dport' }, op: '==', right: { kind: 'value', value: '8080' } },
      { kind: 'nat', type: 'dnat', address: '10.1.1.1', port: 80, flags: [] },
    ]);
  });
});
