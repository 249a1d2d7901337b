/**
 * The lab never touches the root namespace: iptables (both backends), nft, addresses and routes are the same
 * before and after a run in each mode; nothing of the run is left; namespaces of a crashed run are removed at
 * the next start; Ctrl-C cleans up; and the command refuses clearly when it cannot run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kproxy } from '../cli-helpers.js';
import { repoRoot } from '../helpers.js';
import { labTools, runLabCase } from './helpers.js';

function run(argv: string[]): string {
  const result = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`;
}

/** What must not change; counters and timestamps (other traffic moves them) are blanked. */
function rootState(): Record<string, string> {
  const blankCounters = (text: string) =>
    text
      .split('\n')
      .filter((line) => !line.startsWith('#'))
      .join('\n')
      .replace(/\[\d+:\d+\]/g, '[0:0]')
      .replace(/packets \d+ bytes \d+/g, 'packets 0 bytes 0');
  return {
    'iptables-nft-save': blankCounters(run(['iptables-nft-save'])),
    'iptables-legacy-save': blankCounters(run(['iptables-legacy-save'])),
    'nft list ruleset': blankCounters(run(['nft', 'list', 'ruleset'])),
    'ip addr': run(['ip', '-o', 'addr']).replace(/valid_lft \S+ preferred_lft \S+/g, ''),
    'ip route': run(['ip', 'route', 'show', 'table', 'all']),
    'ip link': run(['ip', '-o', 'link']).replace(/ link\/\S+ \S+ brd \S+/g, ''),
  };
}

function labNamespaces(pid: number): string[] {
  return run(['ip', 'netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(`kpl-${pid}-`));
}

const cli = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');

describe.skipIf(!labTools.available)(`lab safety${labTools.available ? '' : ` (skipped: ${labTools.reason})`}`, () => {
  it('leaves the root namespace as it found it, in both modes, and removes everything it created', async () => {
    const before = rootState();
    for (const mode of ['iptables', 'nftables'] as const) {
      const report = await runLabCase({ inputs: [path.join(repoRoot, 'rulesets', 'kubia')], mode });
      expect(report.results.some((r) => r.comparison?.agree)).toBe(true);
    }
    expect(rootState()).toEqual(before);
    expect(labNamespaces(process.pid)).toEqual([]);
  }, 120_000);

  it('removes the namespaces of a run that died before cleaning up', async () => {
    // pid 4194304 is above Linux's pid_max: no live process can own this name.
    const stale = 'kpl-4194304-dead00-node';
    run(['ip', 'netns', 'add', stale]);
    const report = await runLabCase({ inputs: [path.join(repoRoot, 'rulesets', 'google-map')], mode: 'iptables' });
    expect(report.notes.join('\n')).toContain(stale);
    expect(run(['ip', 'netns', 'list'])).not.toContain(stale);
  }, 120_000);

  it.skipIf(!existsSync(cli))(`Ctrl-C during a run removes every namespace it made${existsSync(cli) ? '' : ' (skipped: dist/ not built, run tsc)'}`, async () => {
    const child = spawn(process.execPath, [cli, 'lab', path.join(repoRoot, 'rulesets', 'kubia')], { stdio: 'ignore' });
    const pid = child.pid as number;
    await expect.poll(() => labNamespaces(pid).length, { timeout: 30_000, interval: 50 }).toBeGreaterThan(0);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGINT');
    expect(await exited).toBe('SIGINT');
    expect(labNamespaces(pid)).toEqual([]);
  }, 60_000);
});

describe('lab refusals', () => {
  it('usage errors exit 2 with one line', async () => {
    const noInput = await kproxy(['lab']);
    expect(noInput.code).toBe(2);
    const badMode = await kproxy(['lab', 'rulesets/kubia', '--mode', 'ipvs']);
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toContain('--mode must be iptables or nftables');
    const badConnections = await kproxy(['lab', 'rulesets/kubia', '--connections', '0']);
    expect(badConnections.code).toBe(2);
    expect(badConnections.stderr).toContain('--connections must be an integer between 1 and 10000');
  });

  it.skipIf(labTools.available)('without root or ip netns it refuses with one clear line (exit 2)', async () => {
    const run = await kproxy(['lab', path.join(repoRoot, 'rulesets', 'kubia')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^kproxy lab: the lab needs .+\n$/);
  });

  // As root, the refusal is checked by running the built CLI as user nobody. It keeps CAP_DAC_READ_SEARCH (and
  // no other privilege) so it can read the checkout wherever it lies, e.g. in a 0700 temporary directory.
  const canDropRoot = labTools.available && existsSync(cli) && spawnSync('sh', ['-c', 'command -v setpriv']).status === 0;
  it.skipIf(!canDropRoot)(`as a user without root it refuses with one clear line (exit 2)${canDropRoot ? '' : ' (skipped: needs root, setpriv and dist/)'}`, () => {
    const result = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search', process.execPath, cli, 'lab', path.join(repoRoot, 'rulesets', 'kubia')], { encoding: 'utf8' });
    expect(result.stderr).toBe('kproxy lab: the lab needs root (it creates network namespaces): run it with sudo\n');
    expect(result.status).toBe(2);
  });
});

describe.skipIf(!labTools.available)(`kproxy lab command${labTools.available ? '' : ` (skipped: ${labTools.reason})`}`, () => {
  it('--report prints the table and exits 0 when all flows agree', async () => {
    const run = await kproxy(['lab', path.join(repoRoot, 'rulesets', 'kubia'), '--report']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^flow +emulator +kernel +agree\n/);
    expect(run.stdout).toMatch(/pod 10\.244\.1\.250 → default\/kubia:80 ClusterIP 10\.96\.0\.10:80\/tcp .* \(affinity\) +10× answered 10\.244\.\d\.\d:8080 \(peer 10\.244\.1\.250\) +yes/);
    expect(run.stdout).toMatch(/iptables mode: 5 flows, 5 agree, 0 disagree, 0 skipped/);
  }, 60_000);

  it('--flows sends a flow table; --json has one entry per flow', async () => {
    const dir = path.join(repoRoot, '..', 'shared', 'conformance', 'iptables', 'no-endpoints-reject');
    const run = await kproxy(['lab', path.join(dir, 'input.yaml'), '--node-config', path.join(dir, 'config.yaml'), '--flows', path.join(dir, 'flows.yaml'), '--mode', 'nftables', '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { mode: string; flows: { name: string; agree: boolean; kernel: string }[] };
    expect(report.mode).toBe('nftables');
    expect(report.flows).toHaveLength(6);
    expect(report.flows.every((f) => f.agree && f.kernel === 'refused')).toBe(true);
  }, 60_000);
});
