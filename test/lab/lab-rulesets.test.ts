/**
 * The kernel as referee, over every example in rulesets/, in both modes: each generated flow (every service
 * port from a pod, the node and outside, to ClusterIP, NodePort, external and LoadBalancer IPs, plus ping)
 * goes through real namespaces, and the kernel's answer must be the emulator's.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kproxy } from '../cli-helpers.js';
import { repoRoot } from '../helpers.js';
import { expectKernelAgrees, labTools, runLabCase } from './helpers.js';

const rulesets = readdirSync(path.join(repoRoot, 'rulesets'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe.skipIf(!labTools.available)(`lab: rulesets/ through the kernel${labTools.available ? '' : ` (skipped: ${labTools.reason})`}`, () => {
  it('finds the examples', () => {
    expect(rulesets.length).toBeGreaterThan(0);
  });
  for (const name of rulesets) {
    for (const mode of ['iptables', 'nftables'] as const) {
      it(`${name} (${mode} mode): the kernel agrees with the emulator on every flow`, async () => {
        const dir = path.join(repoRoot, 'rulesets', name);
        const report = await runLabCase({ inputs: [dir], mode });
        // Flows are sent exactly when the compiled rules proxy some ClusterIP (not for ExternalName-only examples).
        const compiled = await kproxy(['compile', dir, '--format', 'restore']);
        expect(report.results.some((r) => r.comparison)).toBe(compiled.stdout.includes(' cluster IP"'));
        expectKernelAgrees(report);
      }, 180_000);
    }
  }
  // The other iptables flavour: both drive the same xtables matches, so the emulator must agree with it too.
  it('kubia-loadbalancer (iptables mode, iptables-legacy-restore): the kernel agrees with the emulator on every flow', async () => {
    expectKernelAgrees(await runLabCase({ inputs: [path.join(repoRoot, 'rulesets', 'kubia-loadbalancer')], mode: 'iptables', backend: 'legacy' }));
  }, 180_000);
});

if (!labTools.available) {
  describe('lab: rulesets/ through the kernel', () => {
    it.skip(`skipped: ${labTools.reason}`, () => {});
  });
}
