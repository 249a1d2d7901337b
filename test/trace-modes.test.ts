/** `trace --mode both`: the ping question answered by each mode, side by side. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kproxy } from './cli-helpers.js';
import { repoRoot } from './helpers.js';

const kubia = path.join(repoRoot, 'rulesets', 'kubia');

describe('trace --mode both', () => {
  it('shows ping to a ClusterIP lost in iptables mode and rejected in nftables mode', async () => {
    const run = await kproxy(['trace', kubia, '--proto', 'icmp', '--dst', '10.96.0.10', '--mode', 'both']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('===== iptables mode =====');
    expect(run.stdout).toContain('===== nftables mode =====');
    expect(run.stdout).toMatch(/iptables {2}100% no dnat → forwarded/);
    expect(run.stdout).toMatch(/nftables {2}100% no dnat REJECT → rejected/);
  });

  it('prints both traces as one JSON object', async () => {
    const run = await kproxy(['trace', kubia, '--src', '10.244.1.7', '--dst', '10.96.0.10', '--dport', '80', '--mode', 'both', '--json']);
    expect(run.code).toBe(0);
    const both = JSON.parse(run.stdout) as Record<string, { mode: string; outcomes: { probability: number; dnat: string }[] }>;
    for (const mode of ['iptables', 'nftables']) {
      expect(both[mode]?.mode).toBe(mode);
      expect(both[mode]?.outcomes.map((o) => o.dnat).sort()).toEqual(['10.244.1.5:8080', '10.244.1.6:8080', '10.244.2.7:8080']);
    }
  });
});
