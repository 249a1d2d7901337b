/**
 * The kernel is the referee of a sync against a node that already has rules: load the old payload, apply the
 * stale-cleanup (and partial) payload on top with `--noflush` as kube-proxy does, and the nat table must be
 * exactly what a fresh node gets from the full payload of the new manifests.
 */
import { describe, expect, it } from 'vitest';
import { compileToText, loadCluster } from '../../src/index.js';
import { resolveNodeConfig } from '../../src/model/node-config.js';
import { parseIptables } from '../../src/parse/iptables.js';
import { previousSync } from '../../src/proxy/iptables/previous.js';
import { kernelTools, requireKernelInCI, runInNetns, withNetns } from './netns.js';
import { serviceWithSlice as service } from '../helpers.js';

const tools = kernelTools(['iptables-legacy-restore', 'iptables-legacy-save']);
requireKernelInCI(tools);

// xt_nfacct refuses rules for counters that do not exist; these namespaces have none.
const config = resolveNodeConfig({
  nodeName: 'node-1',
  nodeIP: '192.168.0.2',
  clusterCIDR: '10.244.0.0/16',
  nfacctCounters: { ct_state_invalid_dropped_pkts: false, localhost_nps_accepted_pkts: false },
});

function load(docs: string[]) {
  const loaded = loadCluster([{ file: 'm.yaml', text: docs.join('---\n') }]);
  if (!loaded.cluster) throw new Error(loaded.diagnostics.map((d) => d.message).join('; '));
  return loaded.cluster;
}
const sticky = ', sessionAffinity: ClientIP';
const nodePort = ', type: NodePort';
// web loses an endpoint, api and shop stay as they are, old goes away.
const before = load([
  service('web', '10.96.0.10', ['10.244.1.5', '10.244.1.6', '10.244.2.7'], sticky),
  service('api', '10.96.0.20', ['10.244.1.9']),
  service('shop', '10.96.0.30', ['10.244.2.3', '10.244.2.4'], nodePort),
  service('old', '10.96.0.40', ['10.244.3.1']),
]);
const after = load([
  service('web', '10.96.0.10', ['10.244.1.5', '10.244.1.6'], sticky),
  service('api', '10.96.0.20', ['10.244.1.9']),
  service('shop', '10.96.0.30', ['10.244.2.3', '10.244.2.4'], nodePort),
]);

/** The nat table as iptables-save prints it, without its comment lines and counters. */
function natAfter(payloads: string[]): string {
  return withNetns((netns) => {
    for (const payload of payloads) {
      const result = runInNetns(netns, ['iptables-legacy-restore', '--noflush'], payload);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    }
    const saved = runInNetns(netns, ['iptables-legacy-save', '-t', 'nat']);
    expect(saved.status).toBe(0);
    return saved.stdout.split('\n').filter((line) => !line.startsWith('#')).join('\n');
  });
}

describe.skipIf(!tools.available)(`syncs on top of old rules${tools.available ? '' : ` (skipped: ${tools.reason})`}`, () => {
  const old = compileToText(before, config, { format: 'restore' });
  const node = parseIptables(old, 'old').ruleset;
  const fresh = natAfter([compileToText(after, config, { format: 'restore' })]);

  it('the old rules do differ from the new ones', () => {
    expect(natAfter([old])).not.toBe(fresh);
  });

  for (const partial of [false, true]) {
    it(`${partial ? 'a partial' : 'a full'} sync with stale-chain cleanup leaves exactly the new rules`, () => {
      const previous = previousSync(after, config, node, { partial });
      expect([...previous.unchangedServices].sort()).toEqual(partial ? ['default/api', 'default/shop'] : []);
      const payload = compileToText(after, config, { format: 'restore' }, previous);
      expect(payload).toMatch(/^-X KUBE-SEP-/m);
      expect(payload).toMatch(/^-X KUBE-SVC-/m);
      expect(natAfter([old, payload])).toBe(fresh);
    });
  }

  it('without the cleanup the old chains stay behind', () => {
    const payload = compileToText(after, config, { format: 'restore' });
    expect(natAfter([old, payload])).not.toBe(fresh);
  });
});
