/**
 * The real nft binary and kernel, inside a scratch network namespace: every compiled ruleset's dump and listing
 * load with `nft -c -f`; the dump loads for real, and `nft list ruleset` prints what renderNftList prints
 * (element order aside, which the kernel decides). Skipped with the reason when not root or nft is missing;
 * in CI it must run.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderNftDump } from '../src/render/nft-dump.js';
import { renderNftList } from '../src/render/nft-list.js';
import { kernelTools, requireKernelInCI, runInNetns, withNetns } from './kernel/netns.js';
import { compileNftables } from '../src/proxy/nftables/compile.js';
import { loadCase, nftCaseDirs, normalizeListing } from './nft-helpers.js';

const tools = kernelTools(['nft']);
requireKernelInCI(tools);
const scratch = mkdtempSync(path.join(os.tmpdir(), 'kproxy-nft-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function writeScratch(name: string, text: string): string {
  const file = path.join(scratch, name.replaceAll('/', '_'));
  writeFileSync(file, text);
  return file;
}

describe.skipIf(!tools.available)(`nft in a scratch netns${tools.available ? '' : ` (skipped: ${tools.reason})`}`, () => {
  for (const { name, dir } of nftCaseDirs()) {
    const skipFile = path.join(dir, 'kernel-skip.txt');
    const skip = existsSync(skipFile) ? readFileSync(skipFile, 'utf8').trim().split('\n')[0] : undefined;
    it.skipIf(skip !== undefined)(`${name}: dump and listing load; the kernel lists what renderNftList prints${skip ? ` (skipped: ${skip})` : ''}`, () => {
      const { cluster, config } = loadCase(dir);
      const ruleset = compileNftables(cluster, config);
      const dumpFile = writeScratch(`${name}.dump.nft`, renderNftDump(ruleset));
      const listing = renderNftList(ruleset);
      const listFile = writeScratch(`${name}.list.nft`, listing);
      withNetns((ns) => {
        // `iif NAME` needs the interface to exist when the rule is loaded.
        const bridge = config.localDetector.mode === 'BridgeInterface' ? config.localDetector.bridgeInterface : undefined;
        if (bridge) expect(runInNetns(ns, ['ip', 'link', 'add', bridge, 'type', 'bridge']).status).toBe(0);
        const checkDump = runInNetns(ns, ['nft', '-c', '-f', dumpFile]);
        expect(checkDump.stderr).toBe('');
        expect(checkDump.status).toBe(0);
        const checkList = runInNetns(ns, ['nft', '-c', '-f', listFile]);
        expect(checkList.stderr).toBe('');
        expect(checkList.status).toBe(0);
        const load = runInNetns(ns, ['nft', '-f', dumpFile]);
        expect(load.stderr).toBe('');
        const listed = runInNetns(ns, ['nft', 'list', 'ruleset']);
        expect(listed.status).toBe(0);
        expect(normalizeListing(listed.stdout)).toBe(normalizeListing(listing));
      });
    });
  }
});

if (!tools.available) {
  describe('nft in a scratch netns', () => {
    it.skip(`skipped: ${tools.reason}`, () => {});
  });
}
