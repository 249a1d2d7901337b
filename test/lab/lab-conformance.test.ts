/**
 * The kernel as referee over every manifest case of ../shared/conformance (iptables/ and nftables/), in both
 * modes: the generated flows plus the case's own flows.yaml.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformancePath } from '../helpers.js';
import { expectKernelAgrees, labTools, runLabCase } from './helpers.js';

const cases = ['iptables', 'nftables'].flatMap((kind) => {
  const root = conformancePath(kind);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => existsSync(path.join(root, name, 'input.yaml')) && existsSync(path.join(root, name, 'config.yaml')))
    .map((name) => ({ name: `${kind}/${name}`, dir: path.join(root, name) }));
});

describe.skipIf(!labTools.available)(`lab: conformance cases through the kernel${labTools.available ? '' : ` (skipped: ${labTools.reason})`}`, () => {
  it('finds the manifest cases', () => {
    expect(cases.length).toBeGreaterThan(0);
  });
  for (const c of cases) {
    for (const mode of ['iptables', 'nftables'] as const) {
      it(`${c.name} (${mode} mode): the kernel agrees with the emulator on every flow`, async () => {
        const flowTable = path.join(c.dir, 'flows.yaml');
        const report = await runLabCase({
          inputs: [path.join(c.dir, 'input.yaml')],
          nodeConfig: path.join(c.dir, 'config.yaml'),
          mode,
          ...(existsSync(flowTable) ? { flowTable } : {}),
        });
        expect(report.results.filter((r) => r.comparison).length).toBeGreaterThan(0);
        expectKernelAgrees(report);
      }, 180_000);
    }
  }
});

if (!labTools.available) {
  describe('lab: conformance cases through the kernel', () => {
    it.skip(`skipped: ${labTools.reason}`, () => {});
  });
}
