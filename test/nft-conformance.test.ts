/**
 * Every case of ../shared/conformance/nftables: manifests + node config → compileNftables → dump, compared with
 * kube-proxy's expected dump after its test's canonical line sort.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalizeNftDump } from '../src/render/nft-canonical.js';
import { renderNftDump } from '../src/render/nft-dump.js';
import { conformancePath } from './helpers.js';
import { compileCase, nftCaseDirs } from './nft-helpers.js';

const root = conformancePath('nftables');
const cases = readdirSync(root).filter((name) => existsSync(path.join(root, name, 'input.yaml')));

describe('nftables conformance', () => {
  it('finds the cases', () => {
    expect(cases.length).toBeGreaterThan(0);
  });
  for (const name of cases) {
    const dir = path.join(root, name);
    const expectedFile = path.join(dir, 'expected.sorted.nft');
    it.runIf(existsSync(expectedFile))(`${name}: canonical dump matches`, () => {
      const ruleset = compileCase(dir);
      expect(canonicalizeNftDump(renderNftDump(ruleset))).toBe(readFileSync(expectedFile, 'utf8'));
    });
    it.runIf(existsSync(path.join(dir, 'expected.nft')))(`${name}: expected.nft canonicalizes to expected.sorted.nft`, () => {
      expect(canonicalizeNftDump(readFileSync(path.join(dir, 'expected.nft'), 'utf8'))).toBe(readFileSync(expectedFile, 'utf8'));
    });
  }
});

// Our own cases beyond the sample: goldens reviewed against the spec, refreshed with `vitest -u`.
describe('nftables fixtures', () => {
  for (const { name, dir } of nftCaseDirs().filter((c) => c.name.startsWith('nft/'))) {
    it(`${name}: canonical dump`, async () => {
      const ruleset = compileCase(dir);
      await expect(canonicalizeNftDump(renderNftDump(ruleset))).toMatchFileSnapshot(path.join(dir, 'expected.sorted.nft'));
    });
  }
});

