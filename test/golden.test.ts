/**
 * Golden outputs of the learner's examples in rulesets/: golden/iptables/<example>/{restore,save}.iptables and
 * golden/nftables/<example>/{dump,list}.nft.
 * Update deliberately with `npx vitest run -u` and explain every change in the commit message.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRuleJumps } from '../src/ir/consistency.js';
import { kproxy } from './cli-helpers.js';
import { repoRoot } from './helpers.js';

const rulesets = path.join(repoRoot, 'rulesets');
const golden = path.join(repoRoot, 'golden');
const examples = readdirSync(rulesets).filter((name) => existsSync(path.join(rulesets, name, 'node.yaml')));

/** The files each golden kind holds per example, and the compile arguments that produce them. */
const GOLDEN_FILES: Record<string, Record<string, string[]>> = {
  iptables: {
    'restore.iptables': ['--format', 'restore'],
    'save.iptables': ['--format', 'save'],
  },
  nftables: {
    'dump.nft': ['--mode', 'nftables', '--format', 'dump'],
    'list.nft': ['--mode', 'nftables', '--format', 'nft'],
  },
};

describe('golden outputs of rulesets/', () => {
  for (const example of examples) {
    for (const [kind, files] of Object.entries(GOLDEN_FILES)) {
      for (const [file, args] of Object.entries(files)) {
        it(`${example}: ${kind}/${file}`, async () => {
          const run = await kproxy(['compile', ...args, path.join(rulesets, example)]);
          expect(run.stderr).toBe('');
          expect(run.code).toBe(0);
          await expect(run.stdout).toMatchFileSnapshot(path.join(golden, kind, example, file));
        });
      }
    }
    it(`${example}: the payload passes kube-proxy's consistency check`, async () => {
      const run = await kproxy(['compile', '--format', 'restore', path.join(rulesets, example)]);
      expect(checkRuleJumps(run.stdout)).toEqual([]);
    });
  }

  it('has no orphaned golden files', () => {
    const orphans: string[] = [];
    for (const kind of readdirSync(golden)) {
      const expected = GOLDEN_FILES[kind];
      if (!expected) {
        orphans.push(kind);
        continue;
      }
      for (const example of readdirSync(path.join(golden, kind))) {
        if (!examples.includes(example)) orphans.push(`${kind}/${example}`);
        for (const file of readdirSync(path.join(golden, kind, example))) {
          if (!(file in expected)) orphans.push(`${kind}/${example}/${file}`);
        }
      }
    }
    expect(orphans).toEqual([]);
  });
});
