/**
 * `numgen random mod N` in nftables mode: the emulator reads its outcomes from the map's keys (each key 1/N, the
 * values no key finds one more branch), so a modulus of 2^32-1 traces as fast as 3; and the parser refuses a
 * modulus (or offset) that is not a 32-bit positive integer, with its position.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildNode } from '../src/emulate/node.js';
import { createNftEmulator, traceNftPacket } from '../src/emulate/nft/index.js';
import { parseNodeConfig, resolveNodeConfig } from '../src/model/node-config.js';
import { parseNft } from '../src/parse/nft.js';
import { kproxy } from './cli-helpers.js';
import { repoRoot } from './helpers.js';

const configFile = path.join(repoRoot, 'test', 'fixtures', 'diff', 'kubia', 'node.yaml');
const config = resolveNodeConfig(parseNodeConfig(readFileSync(configFile, 'utf8'), configFile).layer);

/** A dump whose prerouting nat chain balances 10.96.0.1:80 with `numgen … vmap`, three endpoint chains. */
function dump(numgen: string, elements = '0 : goto ep-a , 1 : goto ep-b , 2 : goto ep-c'): string {
  return [
    'add table ip t',
    'add chain ip t pre { type nat hook prerouting priority -100 ; }',
    'add chain ip t ep-a',
    'add chain ip t ep-b',
    'add chain ip t ep-c',
    `add rule ip t pre ip daddr 10.96.0.1 ${numgen} vmap { ${elements} }`,
    'add rule ip t ep-a meta l4proto tcp dnat to 10.244.1.5:8080',
    'add rule ip t ep-b meta l4proto tcp dnat to 10.244.1.6:8080',
    'add rule ip t ep-c meta l4proto tcp dnat to 10.244.2.7:8080',
    '',
  ].join('\n');
}

/** `dnat (or result) → probability` of a packet to 10.96.0.1:80 from outside, and the number of paths. */
function trace(text: string): { shares: Record<string, number>; paths: number; reasons: string[] } {
  const parsed = parseNft(text, 'rules.nft');
  expect(parsed.diagnostics).toEqual([]);
  const emu = createNftEmulator(parsed.ruleset, buildNode(config));
  const detail = traceNftPacket(emu, { protocol: 'tcp', source: '203.0.113.10', sourcePort: 40000, destination: '10.96.0.1', destinationPort: 80 });
  const shares: Record<string, number> = {};
  for (const o of detail.trace.outcomes) shares[o.dnat ?? o.result] = (shares[o.dnat ?? o.result] ?? 0) + o.probability;
  const reasons = detail.paths.flatMap((p) => p.hops.filter((h) => h.chain === 'pre').map((h) => h.reason));
  return { shares, paths: detail.paths.length, reasons };
}

describe('numgen in the nftables emulator', () => {
  it('a modulus of 2^32-1 gives each key 1/N and the rest one no-match branch, at once', () => {
    const n = 4294967295;
    const started = performance.now();
    const { shares, paths, reasons } = trace(dump(`numgen random mod ${n}`));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(paths).toBe(4);
    expect(shares['10.244.1.5:8080']).toBe(1 / n);
    expect(shares['10.244.1.6:8080']).toBe(1 / n);
    expect(shares['10.244.2.7:8080']).toBe(1 / n);
    // The other values find no element: the rule does not match and the packet goes on untranslated.
    expect(shares['forwarded']).toBe((n - 3) / n);
    expect(Object.values(shares).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(reasons).toContain(`the random number is one of ${n - 3} values (probability ${n - 3}/${n}), not in { 0, 1, 2 }`);
  });

  it('a modulus equal to the number of keys is enumerated as before: one path per key, 1/N each', () => {
    const { shares, paths, reasons } = trace(dump('numgen random mod 3'));
    expect(paths).toBe(3);
    expect(shares).toEqual({ '10.244.1.5:8080': 1 / 3, '10.244.1.6:8080': 1 / 3, '10.244.2.7:8080': 1 / 3 });
    expect(reasons.map((r) => r.replace(/^.*; /, '').replace(/, found in.*/, ''))).toEqual([0, 1, 2].map((k) => `the random number is ${k} (probability 1/3)`));
  });

  it('an offset shifts the values; a range key takes its count of them', () => {
    const { shares, paths } = trace(dump('numgen random mod 10 offset 5', '5 : goto ep-a , 6-8 : goto ep-b , 14-99 : goto ep-c'));
    // 5 → a, 6..8 → b, 14 → c (15.. are past the modulus), 9..13 → no element.
    expect(paths).toBe(4);
    expect(shares['10.244.1.5:8080']).toBeCloseTo(0.1, 12);
    expect(shares['10.244.1.6:8080']).toBeCloseTo(0.3, 12);
    expect(shares['10.244.2.7:8080']).toBeCloseTo(0.1, 12);
    expect(shares['forwarded']).toBeCloseTo(0.5, 12);
  });

  it('a huge modulus with a huge range key is still a handful of branches', () => {
    const { shares, paths } = trace(dump('numgen random mod 4294967295', '0-2147483647 : goto ep-a , 2147483648 : goto ep-b'));
    expect(paths).toBe(3);
    expect(shares['10.244.1.5:8080']).toBe(2147483648 / 4294967295);
    expect(shares['10.244.1.6:8080']).toBe(1 / 4294967295);
    expect(shares['forwarded']).toBe(2147483646 / 4294967295);
  });
});

describe('numgen in the nftables parser', () => {
  /** `line:col message` of each diagnostic (all of them errors with E_NFT_SYNTAX). */
  function errors(text: string): string[] {
    const parsed = parseNft(text, 'rules.nft');
    for (const d of parsed.diagnostics) expect([d.severity, d.code]).toEqual(['error', 'E_NFT_SYNTAX']);
    return parsed.diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`);
  }
  // The rule is line 6; `add rule ip t pre ip daddr 10.96.0.1 numgen random mod ` is 55 characters.
  const at = 56;

  it('refuses a modulus that is not an integer from 1 to 2^32-1, at the modulus', () => {
    for (const bad of ['0', '-1', 'x', '1.5', '4294967296', '0x100000000', '99999999999999999999']) {
      expect(errors(dump(`numgen random mod ${bad}`))).toEqual([`6:${at} numgen modulus must be an integer from 1 to 4294967295, not "${bad}"`]);
    }
    expect(errors(dump('numgen random mod 4294967295'))).toEqual([]);
    expect(errors(dump('numgen random mod 0x10'))).toEqual([]);
  });

  it('refuses a missing modulus, and an offset that is not a 32-bit integer or overflows with the modulus', () => {
    // At the end of the line, where the modulus should be.
    expect(errors('add table ip t\nadd chain ip t c\nadd rule ip t c numgen random mod\n')).toEqual(['3:34 expected a modulus']);
    const offsetAt = at + 'numgen random mod 10 offset '.length - 'numgen random mod '.length;
    expect(errors(dump('numgen random mod 10 offset -1'))).toEqual([`6:${offsetAt} numgen offset must be an integer from 0 to 4294967295, not "-1"`]);
    expect(errors(dump('numgen random mod 10 offset 4294967290'))).toEqual([`6:${offsetAt} numgen offset 4294967290 + modulus 10 goes past 4294967295`]);
    expect(errors(dump('numgen random mod 10 offset 4294967286'))).toEqual([]);
  });

  it('reports the position in an nft listing too', () => {
    const listing = ['table ip t {', '\tchain c {', '\t\tnumgen random mod 0 vmap { 0 : accept }', '\t}', '}', ''].join('\n');
    expect(errors(listing)).toEqual(['3:21 numgen modulus must be an integer from 1 to 4294967295, not "0"']);
  });

  it('kproxy trace prints it as file:line:col: error[E_NFT_SYNTAX] and exits 1, without a stack trace', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'kproxy-numgen-')), 'rules.nft');
    writeFileSync(file, dump('numgen random mod -1'));
    const run = await kproxy(['trace', '--mode', 'nftables', '--rules', file, '--node-config', configFile, '--dst', '10.96.0.1', '--dport', '80']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`${file}:6:${at}: error[E_NFT_SYNTAX]: numgen modulus must be an integer from 1 to 4294967295, not "-1"\n`);
  });
});
