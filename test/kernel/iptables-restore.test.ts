/**
 * The real iptables is the referee of syntax: every golden payload and save dump must load with
 * `iptables-restore --test` (legacy and nf_tables backends) inside a scratch network namespace.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers.js';
import { kernelTools, requireKernelInCI, runInNetns, withNetns } from './netns.js';

const tools = kernelTools(['iptables-legacy-restore', 'iptables-nft-restore']);
requireKernelInCI(tools);

const goldenDir = path.join(repoRoot, 'golden', 'iptables');
const goldenFiles = existsSync(goldenDir)
  ? readdirSync(goldenDir).flatMap((example) =>
      readdirSync(path.join(goldenDir, example)).map((file) => path.join(goldenDir, example, file)),
    )
  : [];

describe.skipIf(!tools.available)(`iptables-restore --test accepts every golden${tools.available ? '' : ` (skipped: ${tools.reason})`}`, () => {
  it('has golden files to check', () => {
    expect(goldenFiles.length).toBeGreaterThan(0);
  });

  for (const backend of ['iptables-legacy-restore', 'iptables-nft-restore']) {
    it(`${backend} loads all of them`, () => {
      withNetns((netns) => {
        for (const file of goldenFiles) {
          const result = runInNetns(netns, [backend, '--test'], readFileSync(file, 'utf8'));
          expect({ file: path.relative(repoRoot, file), status: result.status, stderr: result.stderr }).toEqual({
            file: path.relative(repoRoot, file),
            status: 0,
            stderr: '',
          });
        }
      });
    });
  }
});
