/** The real nft is the referee of syntax: every nftables golden loads with `nft -c -f` in a scratch netns. */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers.js';
import { kernelTools, requireKernelInCI, runInNetns, withNetns } from './netns.js';

const tools = kernelTools(['nft']);
requireKernelInCI(tools);

const goldenDir = path.join(repoRoot, 'golden', 'nftables');
const goldenFiles = existsSync(goldenDir)
  ? readdirSync(goldenDir).flatMap((example) =>
      readdirSync(path.join(goldenDir, example)).map((file) => path.join(goldenDir, example, file)),
    )
  : [];

describe.skipIf(!tools.available)(`nft -c -f accepts every nftables golden${tools.available ? '' : ` (skipped: ${tools.reason})`}`, () => {
  it('has golden files to check', () => {
    expect(goldenFiles.length).toBeGreaterThan(0);
  });

  it('nft -c -f loads all of them', () => {
    withNetns((netns) => {
      for (const file of goldenFiles) {
        const result = runInNetns(netns, ['nft', '-c', '-f', file]);
        expect({ file: path.relative(repoRoot, file), status: result.status, stderr: result.stderr }).toEqual({
          file: path.relative(repoRoot, file),
          status: 0,
          stderr: '',
        });
      }
    });
  });
});
