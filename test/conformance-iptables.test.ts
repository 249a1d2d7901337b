/** Every manifest case of ../shared/conformance/iptables through the command line, byte for byte. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRuleJumps } from '../src/ir/consistency.js';
import { kproxy } from './cli-helpers.js';
import { conformancePath } from './helpers.js';

const root = conformancePath('iptables');
const manifestCases = readdirSync(root).filter((name) => existsSync(path.join(root, name, 'input.yaml')));

describe('conformance: iptables manifest cases', () => {
  it('finds the cases', () => {
    expect(manifestCases.length).toBeGreaterThan(0);
  });

  for (const name of manifestCases) {
    const dir = path.join(root, name);
    const args = ['compile', '--node-config', path.join(dir, 'config.yaml'), '--format', 'restore'];

    if (existsSync(path.join(dir, 'expected.iptables'))) {
      it(`${name}: canonical payload equals expected.iptables`, async () => {
        const run = await kproxy([...args, '--canonical', path.join(dir, 'input.yaml')]);
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        expect(run.stdout).toBe(readFileSync(path.join(dir, 'expected.iptables'), 'utf8'));
      });
    }

    it(`${name}: payload passes kube-proxy's consistency check`, async () => {
      const run = await kproxy([...args, path.join(dir, 'input.yaml')]);
      expect(run.code).toBe(0);
      expect(checkRuleJumps(run.stdout)).toEqual([]);
    });
  }
});
