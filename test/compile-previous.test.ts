/**
 * kube-proxy's sync against a node that already has rules (spec §4.7 stale-chain cleanup, §8 partial syncs):
 * `compile --previous DUMP [--partial]`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kproxy } from './cli-helpers.js';
import { compileToText, loadCluster } from '../src/index.js';
import { resolveNodeConfig } from '../src/model/node-config.js';
import { parseIptables } from '../src/parse/iptables.js';
import { previousSync } from '../src/proxy/iptables/previous.js';
import { checkRuleJumps } from '../src/ir/consistency.js';
import { serviceWithSlice as service } from './helpers.js';

const config = resolveNodeConfig({ nodeName: 'node-1', nodeIP: '192.168.0.2', clusterCIDR: '10.244.0.0/16' });


function cluster(...docs: string[]) {
  const loaded = loadCluster([{ file: 'c.yaml', text: docs.join('---\n') }]);
  if (!loaded.cluster) throw new Error(loaded.diagnostics.map((d) => d.message).join('; '));
  return loaded.cluster;
}

const before = cluster(service('web', '10.96.0.10', ['10.244.1.5', '10.244.1.6', '10.244.2.7']), service('api', '10.96.0.20', ['10.244.1.9']));
const after = cluster(service('web', '10.96.0.10', ['10.244.1.5', '10.244.1.6']), service('api', '10.96.0.20', ['10.244.1.9']));
const restore = (c: ReturnType<typeof cluster>, previous?: Parameters<typeof compileToText>[3]) =>
  compileToText(c, config, { format: 'restore' }, previous);
const node = (text: string) => parseIptables(text, 'node.txt').ruleset;
const natSection = (payload: string) => payload.slice(payload.indexOf('*nat'));

describe('stale chains (full sync with --previous)', () => {
  const previous = previousSync(after, config, node(restore(before)), { partial: false });
  const payload = restore(after, previous);

  it('flushes and deletes exactly the service chains the sync no longer writes', () => {
    const full = restore(after);
    const fullChains = new Set(full.split('\n').filter((l) => l.startsWith(':')));
    const extra = natSection(payload).split('\n').filter((l) => l.startsWith(':') && !fullChains.has(l));
    expect(extra).toHaveLength(1);
    const stale = (extra[0] as string).slice(1, -' - [0:0]'.length);
    expect(stale).toMatch(/^KUBE-SEP-/);
    expect(natSection(restore(before))).toContain(`:${stale} - [0:0]`);
    // The chain line comes after every chain of the services, the -X just before the final KUBE-NODEPORTS jump.
    const lines = natSection(payload).split('\n');
    expect(lines.indexOf(`:${stale} - [0:0]`)).toBe(lines.filter((l) => l.startsWith(':')).length);
    const x = lines.indexOf(`-X ${stale}`);
    expect(lines[x + 1]).toContain('kubernetes service nodeports; NOTE: this must be the last rule');
  });

  it('is otherwise the full payload, and consistent', () => {
    const full = restore(after);
    const withoutStale = payload.split('\n').filter((l) => !(l.startsWith('-X ') || (l.startsWith(':') && !full.includes(l))));
    expect(withoutStale.join('\n')).toBe(full);
    expect(checkRuleJumps(payload)).toEqual([]);
  });

  it('never touches chains that are not per-Service kube-proxy chains, nor active ones', () => {
    const others = previousSync(after, config, node(`*nat\n:CNI-abc - [0:0]\n:KUBE-MARK-DROP - [0:0]\n:KUBE-SVC-GONEGONEGONEGONE - [0:0]\n${natSection(restore(after)).split('\n').filter((l) => l.startsWith(':KUBE-S')).join('\n')}\nCOMMIT\n`), { partial: false });
    const text = restore(after, others);
    expect(text).toContain('-X KUBE-SVC-GONEGONEGONEGONE');
    expect(text).not.toContain('CNI-abc');
    expect(text).not.toContain('KUBE-MARK-DROP');
    expect(text.match(/^-X /gm)).toHaveLength(1);
  });
});

describe('partial sync (--previous --partial)', () => {
  it('writes nothing of a Service the node already has as it should be', () => {
    const previous = previousSync(after, config, node(restore(after)), { partial: true });
    expect([...previous.unchangedServices].sort()).toEqual(['default/api', 'default/web']);
    const payload = restore(after, previous);
    expect(payload).not.toMatch(/^:KUBE-(SVC|SEP)-/m);
    // Steps 1-6 are always written: KUBE-SERVICES still lists every service.
    expect(payload.match(/^-A KUBE-SERVICES .*cluster IP/gm)).toHaveLength(2);
  });

  it('rewrites the changed Service, leaves the other alone, and deletes what went away', () => {
    const previous = previousSync(after, config, node(restore(before)), { partial: true });
    expect([...previous.unchangedServices]).toEqual(['default/api']);
    const payload = restore(after, previous);
    expect(payload).toContain('default/web:http -> 10.244.1.5:8080');
    expect(payload).not.toContain('default/api:http ->');
    expect(payload).not.toContain('10.244.1.9');
    expect(payload.match(/^-X KUBE-SEP-/gm)).toHaveLength(1);
  });

  it('reads a node dump in iptables-save form as well as a restore payload', () => {
    const saved = compileToText(before, config, { format: 'save' });
    const fromSave = previousSync(after, config, node(saved), { partial: true });
    const fromRestore = previousSync(after, config, node(restore(before)), { partial: true });
    expect(fromSave.unchangedServices).toEqual(fromRestore.unchangedServices);
    expect(restore(after, fromSave)).toBe(restore(after, fromRestore));
  });

  it('--format save shows the node afterwards: the same as a full sync', () => {
    const previous = previousSync(after, config, node(restore(before)), { partial: true });
    expect(compileToText(after, config, { format: 'save' }, previous)).toBe(compileToText(after, config, { format: 'save' }));
  });
});

describe('kproxy compile --previous on the command line', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kproxy-previous-'));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const manifests = write('after.yaml', [service('web', '10.96.0.10', ['10.244.1.5', '10.244.1.6']), service('api', '10.96.0.20', ['10.244.1.9'])].join('---\n'));
  const nodeFlags = ['--node-name', 'node-1', '--node-ip', '192.168.0.2', '--cluster-cidr', '10.244.0.0/16'];

  it('prints the partial payload the library gives', async () => {
    const old = write('old.txt', restore(before));
    const run = await kproxy(['compile', ...nodeFlags, '--format', 'restore', '--previous', old, '--partial', manifests]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(restore(after, previousSync(after, config, node(restore(before)), { partial: true })));
  });

  it('refuses --partial alone, --previous in nftables mode, and a missing file (usage, exit 2)', async () => {
    expect((await kproxy(['compile', ...nodeFlags, '--partial', manifests])).code).toBe(2);
    expect((await kproxy(['compile', ...nodeFlags, '--mode', 'nftables', '--previous', manifests, manifests])).code).toBe(2);
    const missing = await kproxy(['compile', ...nodeFlags, '--previous', path.join(dir, 'nope.txt'), manifests]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.txt: no such file');
  });

  it('reports a dump that does not parse with its position (exit 1)', async () => {
    const broken = write('broken.txt', '*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-NOWHERE -j ACCEPT\nCOMMIT\n');
    const run = await kproxy(['compile', ...nodeFlags, '--previous', broken, manifests]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/broken\.txt:3:4: error\[E_IPT_UNKNOWN_CHAIN\]/);
    expect(run.stdout).toBe('');
  });
});
