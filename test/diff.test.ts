/**
 * `kproxy diff`: packet fates (with exact probabilities and affinity), the chain-by-chain rule difference, exit
 * codes, manifests against rule dumps of the same manifests (no change), nftables mode, and the edit script.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffKeys, toHunks } from '../src/diff/lines.js';
import { compareFates } from '../src/diff/fates.js';
import { DiffTooLargeError, pathBudget, type FateChange, type Probe, type RuleChange, type SourceClass, type Tracer } from '../src/diff/index.js';
import { MAX_PATHS, PathLimitError } from '../src/emulate/trace.js';
import { kproxy } from './cli-helpers.js';
import { repoRoot } from './helpers.js';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'diff');
const fixture = (name: string) => path.join(fixtures, name);
const nodeConfig = path.join(fixtures, 'kubia', 'node.yaml');

interface DiffJson {
  changed: boolean;
  mode: string;
  probes: number;
  traced: number;
  sources: { name: string; address: string }[];
  fates: FateChange[];
  rules: RuleChange[];
  foreign: string[];
}

async function diffJson(...args: string[]): Promise<{ code: number; json: DiffJson; stderr: string }> {
  const run = await kproxy(['diff', ...args, '--json']);
  return { code: run.code, json: JSON.parse(run.stdout) as DiffJson, stderr: run.stderr };
}

/** The change of one probe from one source class. */
function fateOf(json: DiffJson, source: string, destination: string, port?: number): FateChange | undefined {
  return json.fates.find((f) => f.source.name === source && f.probe.destination === destination && f.probe.port === port);
}

/** `dnat → probability` of a distribution. */
function byEndpoint(fates: FateChange['before']): Record<string, number> {
  return Object.fromEntries(fates.map((f) => [f.dnat ?? f.result, f.probability]));
}

/** Compiles a fixture with `compile` and writes the text to a temporary file. */
async function compiled(name: string, ...args: string[]): Promise<string> {
  const run = await kproxy(['compile', fixture(name), ...args]);
  expect(run.code).toBe(0);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'kproxy-diff-')), `${name}.rules`);
  writeFileSync(file, run.stdout);
  return file;
}

describe('kproxy diff: packet fates', () => {
  it('a scaled-down deployment: 1/3 per endpoint becomes 1/2 on the two that remain', async () => {
    const { code, json } = await diffJson(fixture('kubia'), fixture('kubia-scaled'));
    expect(code).toBe(1);
    expect(json.changed).toBe(true);
    const fromPod = fateOf(json, 'pod', '10.96.0.10', 80);
    expect(fromPod?.probe).toMatchObject({ protocol: 'tcp', kind: 'cluster IP', service: 'default/kubia' });
    const before = byEndpoint(fromPod?.before ?? []);
    expect(Object.keys(before).sort()).toEqual(['10.244.1.5:8080', '10.244.1.6:8080', '10.244.2.7:8080']);
    for (const p of Object.values(before)) expect(p).toBeCloseTo(1 / 3, 9);
    expect(byEndpoint(fromPod?.after ?? [])).toEqual({ '10.244.1.5:8080': 0.5, '10.244.1.6:8080': 0.5 });
    // From the node the same change, masqueraded (the source is not in the cluster CIDR).
    expect(fateOf(json, 'node', '10.96.0.10', 80)?.after.every((f) => f.masquerade)).toBe(true);
    // Pinging the ClusterIP was and stays unanswered.
    expect(json.fates.some((f) => f.probe.protocol === 'icmp')).toBe(false);
  });

  it('prints the change as "before → after" with percentages', async () => {
    const run = await kproxy(['diff', fixture('kubia'), fixture('kubia-scaled')]);
    expect(run.stdout).toContain('  10.96.0.10:80/tcp (default/kubia, cluster IP)\n');
    expect(run.stdout).toMatch(
      /from pod [0-9.]+: 10\.244\.1\.5:8080 33\.3%, 10\.244\.1\.6:8080 33\.3%, 10\.244\.2\.7:8080 33\.3% → 10\.244\.1\.5:8080 50%, 10\.244\.1\.6:8080 50%\n/,
    );
  });

  it('sessionAffinity removed: the first connection is unchanged, the next one from the client no longer sticks', async () => {
    const { code, json } = await diffJson(fixture('kubia'), fixture('kubia-no-affinity'));
    expect(code).toBe(1);
    const change = fateOf(json, 'pod', '10.96.0.10', 80);
    expect(change?.firstConnectionChanged).toBe(false);
    expect(change?.sameEndpointAgain.before).toBeCloseTo(1, 9);
    expect(change?.sameEndpointAgain.after).toBeCloseTo(1 / 3, 9);
    const text = await kproxy(['diff', fixture('kubia'), fixture('kubia-no-affinity')]);
    expect(text.stdout).toMatch(/next connection from the same client: same endpoint 100% → 33\.3%/);
  });

  it('a Service removed: its ClusterIP is no longer translated', async () => {
    const { json } = await diffJson(fixture('kubia'), fixture('kubia-removed'));
    const change = fateOf(json, 'pod', '10.96.0.10', 80);
    expect(change?.after).toEqual([expect.objectContaining({ dnat: null, result: 'forwarded', probability: 1 })]);
    const removed = json.rules.filter((r) => r.status === 'removed').map((r) => r.name);
    expect(removed).toEqual(expect.arrayContaining(['KUBE-SVC-XCCRWSFD2BRL7CRI', 'KUBE-SEP-Q4DEJ5S5KAKWIJEW']));
  });

  it('a NodePort added: the node IP and port now reach the endpoints, from outside masqueraded', async () => {
    const { json } = await diffJson(fixture('kubia'), fixture('kubia-nodeport'));
    const change = fateOf(json, 'outside', '192.168.0.2', 30123);
    expect(change?.probe.kind).toBe('node port');
    expect(change?.before).toEqual([expect.objectContaining({ dnat: null, result: 'local', probability: 1 })]);
    expect(change?.after.map((f) => [f.dnat, f.masquerade])).toEqual([
      ['10.244.1.5:8080', true],
      ['10.244.1.6:8080', true],
      ['10.244.2.7:8080', true],
    ]);
    // The ClusterIP is untouched.
    expect(fateOf(json, 'pod', '10.96.0.10', 80)).toBeUndefined();
  });

  it('identical inputs: exit 0 and "no change"', async () => {
    const run = await kproxy(['diff', fixture('kubia'), fixture('kubia')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('no change');
    expect(run.stdout).not.toContain('Packets that change fate');
  });
});

describe('kproxy diff: rule changes', () => {
  it('scaled down: the endpoint chain removed, the service chain rewritten in order', async () => {
    const { json } = await diffJson(fixture('kubia'), fixture('kubia-scaled'));
    expect(json.rules.map((r) => [r.table, r.name, r.status, r.removed, r.added])).toEqual([
      ['nat', 'KUBE-SEP-NVA3MVU74KFKQBN6', 'removed', 2, 0],
      ['nat', 'KUBE-SVC-XCCRWSFD2BRL7CRI', 'changed', 4, 2],
    ]);
    const svc = json.rules[1] as RuleChange;
    expect(svc.hunks).toHaveLength(1);
    expect(svc.hunks[0]).toMatchObject({ oldStart: 2, oldLines: 6, newStart: 2, newLines: 4 });
    expect(svc.hunks[0]?.lines.map((l) => l.op).join('')).toBe('  ----++');
    expect(svc.hunks[0]?.lines[6]?.text).toBe(
      '-A KUBE-SVC-XCCRWSFD2BRL7CRI -m comment --comment "default/kubia -> 10.244.1.5:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-Q4DEJ5S5KAKWIJEW',
    );
  });

  it('prints unified hunks per chain', async () => {
    const run = await kproxy(['diff', fixture('kubia'), fixture('kubia-scaled')]);
    expect(run.stdout).toContain('Rule changes (iptables; chains: 0 added, 1 removed, 1 changed):\n');
    expect(run.stdout).toContain('  nat KUBE-SEP-NVA3MVU74KFKQBN6: chain removed (2 rules removed)\n    @@ -1,2 +0,0 @@\n    - -A KUBE-SEP-NVA3MVU74KFKQBN6 ');
    expect(run.stdout).toContain('  nat KUBE-SVC-XCCRWSFD2BRL7CRI: 4 rules removed, 2 rules added\n    @@ -2,6 +2,4 @@\n');
    expect(run.stdout).toContain('\n    + -A KUBE-SVC-XCCRWSFD2BRL7CRI -m comment --comment "default/kubia -> 10.244.1.6:8080" -j KUBE-SEP-PYYBBND56WKMHJ5M\n');
  });

  it('a NodePort added: a new chain and two KUBE-NODEPORTS rules', async () => {
    const { json } = await diffJson(fixture('kubia'), fixture('kubia-nodeport'));
    expect(json.rules.map((r) => [r.name, r.status, r.removed, r.added])).toEqual([
      ['KUBE-EXT-XCCRWSFD2BRL7CRI', 'added', 0, 2],
      ['KUBE-NODEPORTS', 'changed', 0, 2],
    ]);
  });
});

describe('kproxy diff: manifests against rule dumps', () => {
  it.each([
    ['an iptables-save dump', ['--format', 'save']],
    ['a restore payload', ['--format', 'restore']],
  ])('manifests against %s of themselves: no change', async (_what, format) => {
    const dump = await compiled('kubia', ...format);
    for (const args of [[fixture('kubia'), dump], [dump, fixture('kubia')]]) {
      const run = await kproxy(['diff', ...args]);
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain('no change');
      expect(run.code).toBe(0);
    }
  });

  it("a node's own rules beside kube-proxy's are named, not compared, and are no change", async () => {
    const dump = await compiled('kubia', '--format', 'save');
    const withDocker = readFileSync(dump, 'utf8').replace(
      /\*filter\n((?::.*\n)*)/,
      (_all, chains: string) => `*filter\n${chains}:DOCKER - [0:0]\n-A FORWARD -j DOCKER\n-A DOCKER -d 172.17.0.2/32 -j ACCEPT\n`,
    );
    expect(withDocker).toContain(':DOCKER');
    writeFileSync(dump, withDocker);
    const { code, json } = await diffJson(fixture('kubia'), dump);
    expect(json.rules).toEqual([]);
    expect(json.foreign).toEqual(["filter FORWARD (its policy or rules that are not kube-proxy's)", 'filter DOCKER']);
    expect(code).toBe(0);
  });

  it('reads a dump from standard input (-)', async () => {
    const dump = readFileSync(await compiled('kubia-scaled', '--format', 'save'), 'utf8');
    const run = await kproxy(['diff', fixture('kubia'), '-'], dump);
    expect(run.stdout).toContain('kproxy diff (iptables mode): ' + fixture('kubia') + ' → -');
    expect(run.stdout).toContain('nat KUBE-SEP-NVA3MVU74KFKQBN6: chain removed');
    expect(run.code).toBe(1);
  });

  it('a dump side routes to pods as the manifests place them, even when the node settings name no pod network', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kproxy-diff-'));
    writeFileSync(path.join(dir, 'kubia.yaml'), readFileSync(path.join(fixture('kubia'), 'kubia.yaml'), 'utf8'));
    writeFileSync(path.join(dir, 'node.yaml'), 'nodeName: node-1\nnodeIP: 192.168.0.2\nclusterCIDR: 10.244.0.0/16\n');
    const payload = await kproxy(['compile', dir, '--format', 'restore']);
    const dump = path.join(dir, 'payload.iptables');
    writeFileSync(dump, payload.stdout);
    const run = await kproxy(['diff', dir, dump]);
    expect(run.stdout).toContain('no change');
    expect(run.stdout).toContain('where pods run is taken from the other side');
    expect(run.code).toBe(0);
  });

  it('says delivered or forwarded when that is all that changed (a pod moved to another node)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kproxy-diff-'));
    const moved = readFileSync(path.join(fixture('kubia'), 'kubia.yaml'), 'utf8').replace(/(name: kubia-a[\s\S]*?nodeName: )node-1/, '$1node-2');
    writeFileSync(path.join(dir, 'kubia.yaml'), moved);
    writeFileSync(path.join(dir, 'node.yaml'), readFileSync(nodeConfig, 'utf8'));
    const run = await kproxy(['diff', fixture('kubia'), dir]);
    expect(run.stdout).toMatch(/from pod [0-9.]+: 10\.244\.1\.5:8080 delivered 33\.3%, .* → 10\.244\.1\.5:8080 forwarded 33\.3%, /);
    expect(run.code).toBe(1);
  });

  it('--old-rules names the dump; the manifests fill the other side', async () => {
    const dump = await compiled('kubia', '--format', 'save');
    const { code, json } = await diffJson(fixture('kubia-scaled'), '--old-rules', dump);
    expect(code).toBe(1);
    expect(byEndpoint(fateOf(json, 'pod', '10.96.0.10', 80)?.after ?? [])).toEqual({ '10.244.1.5:8080': 0.5, '10.244.1.6:8080': 0.5 });
  });

  it('two dumps without manifests: probes come from the rules, names from their comments', async () => {
    const old = await compiled('kubia', '--format', 'save');
    const now = await compiled('kubia-nodeport', '--format', 'save');
    const { code, json } = await diffJson(old, now, '--node-config', nodeConfig);
    expect(code).toBe(1);
    const change = fateOf(json, 'outside', '192.168.0.2', 30123);
    expect(change?.probe).toMatchObject({ kind: 'node port', service: 'default/kubia' });
    expect(change?.after).toHaveLength(3);
    expect(json.probes).toBe(3); // tcp 10.96.0.10:80, its ping, the NodePort
  });
});

describe('kproxy diff --mode nftables', () => {
  it('scaled down: the same probabilities, and the dump lines that change', async () => {
    const { code, json } = await diffJson('--mode', 'nftables', fixture('kubia'), fixture('kubia-scaled'));
    expect(code).toBe(1);
    expect(json.mode).toBe('nftables');
    expect(byEndpoint(fateOf(json, 'pod', '10.96.0.10', 80)?.after ?? [])).toEqual({ '10.244.1.5:8080': 0.5, '10.244.1.6:8080': 0.5 });
    expect(json.rules.map((r) => [r.kind, r.name, r.status])).toEqual([
      ['chain', 'endpoint-T5E2Y75L-default/kubia/tcp/__10.244.2.7/8080', 'removed'],
      ['chain', 'service-DNOZYQY4-default/kubia/tcp/', 'changed'],
      ['set', 'affinity-T5E2Y75L-default/kubia/tcp/__10.244.2.7/8080', 'removed'],
    ]);
    const svc = json.rules[1] as RuleChange;
    expect(svc.hunks.flatMap((h) => h.lines).filter((l) => l.op === '+').map((l) => l.text)).toEqual([
      'add rule ip kube-proxy service-DNOZYQY4-default/kubia/tcp/ numgen random mod 2 vmap { 0 : goto endpoint-ZWLUZ6RR-default/kubia/tcp/__10.244.1.5/8080 , 1 : goto endpoint-2JJBBFRF-default/kubia/tcp/__10.244.1.6/8080 }',
    ]);
  });

  it('a NodePort added: one map element added, as a dump line', async () => {
    const { json } = await diffJson('--mode', 'nftables', fixture('kubia'), fixture('kubia-nodeport'));
    const map = json.rules.find((r) => r.name === 'service-nodeports');
    expect(map).toMatchObject({ kind: 'map', status: 'changed', added: 1, removed: 0, ordered: false });
    expect(map?.hunks[0]?.lines).toEqual([{ op: '+', text: 'add element ip kube-proxy service-nodeports { tcp . 30123 : goto external-DNOZYQY4-default/kubia/tcp/ }' }]);
  });

  it('sessionAffinity removed: stickiness measured through the affinity sets', async () => {
    const { json } = await diffJson('--mode', 'nftables', fixture('kubia'), fixture('kubia-no-affinity'));
    const change = fateOf(json, 'pod', '10.96.0.10', 80);
    expect(change?.sameEndpointAgain.before).toBeCloseTo(1, 9);
    expect(change?.sameEndpointAgain.after).toBeCloseTo(1 / 3, 9);
  });

  it('two dumps without manifests: probes from the maps, names from the chains they jump to', async () => {
    const old = await compiled('kubia', '--mode', 'nftables', '--format', 'dump');
    const now = await compiled('kubia-nodeport', '--mode', 'nftables', '--format', 'dump');
    const { code, json } = await diffJson(old, now, '--node-config', nodeConfig);
    expect(code).toBe(1);
    expect(json.mode).toBe('nftables');
    expect(json.probes).toBe(3); // service-ips' 10.96.0.10 . tcp . 80, the ping of cluster-ips' 10.96.0.10, service-nodeports' tcp . 30123
    const change = fateOf(json, 'outside', '192.168.0.2', 30123);
    expect(change?.probe).toMatchObject({ kind: 'node port', service: 'default/kubia' });
    expect(change?.after.map((f) => f.dnat)).toEqual(['10.244.1.5:8080', '10.244.1.6:8080', '10.244.2.7:8080']);
  });

  it.each([['nft', 'a listing'], ['dump', 'a knftables dump']])('manifests against %s (%s) of themselves: no change, mode taken from the dump', async (format) => {
    const dump = await compiled('kubia', '--mode', 'nftables', '--format', format);
    const run = await kproxy(['diff', dump, fixture('kubia')]);
    expect(run.stdout).toContain('(nftables mode)');
    expect(run.stdout).toContain('no change');
    expect(run.code).toBe(0);
  });
});

describe('kproxy diff on an IPv6 node', () => {
  it.each(['iptables', 'nftables'])('%s mode: the NodePort on the node IPv6 address, ClusterIP and ping probed', async (mode) => {
    const { code, json } = await diffJson('--mode', mode, fixture('web-ipv6'), fixture('web-ipv6-scaled'));
    expect(code).toBe(1);
    expect(json.probes).toBe(3);
    const nodePort = fateOf(json, 'outside', 'fd00::2', 30080);
    expect(nodePort?.before.map((f) => [f.dnat, f.probability])).toEqual([
      ['[fd00:10:244:1::5]:8080', 0.5],
      ['[fd00:10:244:2::7]:8080', 0.5],
    ]);
    expect(nodePort?.after.map((f) => [f.dnat, f.probability])).toEqual([['[fd00:10:244:1::5]:8080', 1]]);
    expect(json.rules.some((r) => r.status === 'removed')).toBe(true);
  });
});

describe('kproxy diff: tables that are not kube-proxy\'s', () => {
  it('an nftables listing with another table: named, not counted', async () => {
    const listing = await compiled('kubia', '--mode', 'nftables');
    writeFileSync(listing, `${readFileSync(listing, 'utf8')}table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t\ttcp dport 22 accept\n\t}\n}\n`);
    const { code, json } = await diffJson(fixture('kubia'), listing, '--mode', 'nftables');
    expect(json.rules).toEqual([]);
    expect(json.foreign).toEqual(['table inet filter']);
    expect(code).toBe(0);
  });
});

describe('kproxy diff: state is not rules', () => {
  it('clients recorded in an affinity set of a listed node are no change', async () => {
    const listing = await compiled('kubia', '--mode', 'nftables');
    const text = readFileSync(listing, 'utf8');
    const withClient = text.replace(/(set affinity-[^\n]+ \{\n(?:\t\t[^\n]*\n)*?)(\t\})/, '$1\t\telements = { 10.244.1.9 timeout 3h expires 2h59m }\n$2');
    expect(withClient).not.toBe(text);
    writeFileSync(listing, withClient);
    const run = await kproxy(['diff', fixture('kubia'), listing]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('no change');
  });
});

describe('kproxy diff: usage and input errors (exit 2)', () => {
  it('needs two sides', async () => {
    const run = await kproxy(['diff', fixture('kubia')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^kproxy: give two inputs/);
  });

  it('refuses an iptables dump in nftables mode', async () => {
    const dump = await compiled('kubia', '--format', 'save');
    const run = await kproxy(['diff', '--mode', 'nftables', dump, fixture('kubia')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('is an iptables dump, but the mode is nftables');
  });

  it('reports bad manifests as file:line:col: error[CODE]', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kproxy-diff-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  ports:\n  - port: 99999\n');
    const run = await kproxy(['diff', fixture('kubia'), file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:7:\\d+: error\\[[A-Z_]+\\]`, 'm'));
  });

  it('reports a broken rule dump with its position', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kproxy-diff-'));
    const file = path.join(dir, 'broken.iptables');
    writeFileSync(file, '*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -m tcp --dport\nCOMMIT\n');
    const run = await kproxy(['diff', '--old-rules', file, fixture('kubia')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/broken\.iptables:3:\d+: error\[/);
  });
});

describe('kproxy diff: rules that branch too much (exit 2)', () => {
  /** Services that all jump into one chain of `levels` 50% branches: 2^levels paths per probe. */
  function branchy(services: number, levels: number): string {
    const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]'];
    for (let i = 0; i <= levels; i++) lines.push(`:C${i} - [0:0]`);
    lines.push('-A PREROUTING -j KUBE-SERVICES', '-A OUTPUT -j KUBE-SERVICES');
    for (let s = 0; s < services; s++) lines.push(`-A KUBE-SERVICES -m comment --comment "default/s${s} cluster IP" -m tcp -p tcp -d 10.96.1.${s + 1} --dport 80 -j C0`);
    for (let i = 0; i < levels; i++) lines.push(`-A C${i} -m statistic --mode random --probability 0.5 -j C${i + 1}`, `-A C${i} -j C${i + 1}`);
    lines.push(`-A C${levels} -p tcp -j DNAT --to-destination 10.244.1.5:80`, 'COMMIT', '');
    return lines.join('\n');
  }

  it('stops at the first probe with more paths than a trace follows, naming it and its file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kproxy-diff-'));
    const [old, now] = [path.join(dir, 'branchy.iptables'), path.join(dir, 'plain.iptables')];
    writeFileSync(old, branchy(40, 29));
    writeFileSync(now, branchy(40, 0));
    const started = performance.now();
    const run = await kproxy(['diff', '--old-rules', old, '--new-rules', now, '--node-config', nodeConfig]);
    // Before the budget this ran for minutes (every probe × source walked to the 100000-path cap).
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `kproxy: diff stopped: 10.96.1.1:80/tcp (default/s0, cluster IP) from pod 10.244.1.2 through ${old} (the old side) has more than ${MAX_PATHS} paths, the most one packet's trace follows (kproxy trace stops there too); the rules make too many random choices in a row to enumerate every path\n`,
    );
  });
});

describe('compareFates', () => {
  /** A walker that answers every packet with these outcomes (no state, so no second-connection tracing). */
  function fakeTracer(outcomes: [string | null, string, number][]): Tracer {
    const paths = outcomes.map(([dnat, result, probability]) => ({
      probability, dnat, result, masquerade: false, filterVerdict: null, finalSource: '', finalDestination: '10.96.0.1', hops: [],
      effects: { recent: new Map(), nth: new Map() },
    }));
    return () => ({ trace: { outcomes: paths }, paths }) as unknown as ReturnType<Tracer>;
  }
  const probe: Probe = { protocol: 'tcp', destination: '10.96.0.1', port: 80, kind: 'cluster IP' };
  const pod: SourceClass = { name: 'pod', origin: 'pod', address: '10.244.1.2' };
  /** What `run` threw (it must throw). */
  function thrown(run: () => unknown): unknown {
    try {
      run();
    } catch (e) {
      return e;
    }
    throw new Error('expected an exception');
  }

  it('orders endpoints numerically and merges outcomes that look the same', () => {
    const before = fakeTracer([['10.244.10.2:80', 'forwarded', 0.25], [null, 'rejected', 0.25], ['10.244.2.7:80', 'forwarded', 0.25], ['10.244.10.2:80', 'forwarded', 0.25]]);
    const after = fakeTracer([['10.244.2.7:80', 'forwarded', 1]]);
    const { changes, traced } = compareFates(before, after, [probe], [pod]);
    expect(traced).toBe(1);
    expect(changes[0]?.before.map((f) => [f.dnat, f.result, f.probability])).toEqual([
      ['10.244.2.7:80', 'forwarded', 0.25],
      ['10.244.10.2:80', 'forwarded', 0.5],
      [null, 'rejected', 0.25],
    ]);
    // Two endpoints and no state left behind: a second connection is drawn like the first, P(A)² + P(B)².
    expect(changes[0]?.sameEndpointAgain.before).toBeCloseTo(0.5 ** 2 + 0.25 ** 2, 9);
    expect(changes[0]?.sameEndpointAgain.after).toBeNull();
  });

  it('reports nothing when the distributions match', () => {
    const same = fakeTracer([['10.244.1.5:80', 'delivered', 0.5], ['10.244.1.6:80', 'delivered', 0.5]]);
    expect(compareFates(same, same, [probe], [pod]).changes).toEqual([]);
  });

  it('gives every trace what is left of one budget, and stops when all the paths together pass it', () => {
    const allowed: (number | undefined)[] = [];
    const inner = fakeTracer(Array.from({ length: 30 }, (): [string | null, string, number] => ['10.244.1.5:80', 'delivered', 1 / 30]));
    const thirty: Tracer = (spec, options) => {
      allowed.push(options?.maxPaths);
      return inner(spec, options);
    };
    const probes = [1, 2, 3].map((i): Probe => ({ ...probe, destination: `10.96.0.${i}` }));
    const stopped = thrown(() => compareFates(thirty, thirty, probes, [pod], 100));
    // 30 paths a side: the second packet's new side passes 100.
    expect(allowed).toEqual([100, 70, 40, 10]);
    expect(stopped).toBeInstanceOf(DiffTooLargeError);
    expect(stopped).toMatchObject({ alone: false, side: 'after', compared: 1, budget: 100, probe: probes[1], source: pod });
    expect(compareFates(thirty, thirty, probes, [pod], 180).traced).toBe(3);
    expect(pathBudget(3)).toBeGreaterThanOrEqual(MAX_PATHS);
  });

  it('stops when one trace passes its cap; other trace errors stay "not traced"', () => {
    const fine = fakeTracer([['10.244.1.5:80', 'delivered', 1]]);
    const capped: Tracer = () => {
      throw new PathLimitError(MAX_PATHS);
    };
    const stopped = thrown(() => compareFates(fine, capped, [probe], [pod]));
    expect(stopped).toBeInstanceOf(DiffTooLargeError);
    expect(stopped).toMatchObject({ alone: true, side: 'after', compared: 0 });
    const broken: Tracer = () => {
      throw new Error('no route');
    };
    const { changes } = compareFates(fine, broken, [probe], [pod]);
    expect(changes[0]?.after).toMatchObject([{ result: 'not traced', error: 'no route' }]);
  });
});

describe('diffKeys', () => {
  /** Length of the longest common subsequence, by dynamic programming. */
  function lcs(a: readonly string[], b: readonly string[]): number {
    const row = new Array<number>(b.length + 1).fill(0);
    for (const x of a) {
      let diagonal = 0;
      for (let j = 1; j <= b.length; j++) {
        const up = row[j] as number;
        row[j] = x === b[j - 1] ? diagonal + 1 : Math.max(up, row[j - 1] as number);
        diagonal = up;
      }
    }
    return row[b.length] as number;
  }

  it('is a shortest edit script that turns the old lines into the new ones', () => {
    const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 14 });
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const edits = diffKeys(a, b);
        expect(edits.filter((e) => e.op !== 'insert').map((e) => a[e.oldIndex])).toEqual(a);
        expect(edits.filter((e) => e.op !== 'delete').map((e) => b[e.newIndex])).toEqual(b);
        for (const e of edits) if (e.op === 'equal') expect(a[e.oldIndex]).toBe(b[e.newIndex]);
        expect(edits.filter((e) => e.op === 'equal').length).toBe(lcs(a, b));
      }),
      { numRuns: 400 },
    );
  });

  it('a rewrite beyond its search bound is still a correct (if not shortest) script', () => {
    const a = Array.from({ length: 1500 }, (_, i) => `old ${i}`);
    const b = Array.from({ length: 1500 }, (_, i) => (i === 700 ? 'old 700' : `new ${i}`));
    const edits = diffKeys(a, b);
    expect(edits.filter((e) => e.op !== 'insert').map((e) => a[e.oldIndex])).toEqual(a);
    expect(edits.filter((e) => e.op !== 'delete').map((e) => b[e.newIndex])).toEqual(b);
  });

  it('groups changes into hunks with two lines of context', () => {
    const old = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'];
    const now = ['1', '2', '3', 'x', '5', '6', '7', '8', '9', '10', '11'];
    const hunks = toHunks(diffKeys(old, now), (i) => old[i] as string, (i) => now[i] as string);
    expect(hunks.map((h) => [h.oldStart, h.oldLines, h.newStart, h.newLines])).toEqual([
      [2, 5, 2, 5],
      [9, 2, 9, 3],
    ]);
    expect(hunks[0]?.lines.map((l) => `${l.op}${l.text}`)).toEqual([' 2', ' 3', '-4', '+x', ' 5', ' 6']);
  });
});
