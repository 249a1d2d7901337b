/** Behaviours of the iptables compiler beyond the conformance sample, checked rule by rule (spec §4–§7). */
import { describe, expect, it } from 'vitest';
import { syntheticJson } from '../bench/generate.js';
import { loadCluster } from '../src/index.js';
import { resolveNodeConfig, type NodeConfigLayer } from '../src/model/node-config.js';
import { compileIptables } from '../src/proxy/iptables/compile.js';
import { renderRestore } from '../src/render/restore.js';

const service = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: NodePort
  clusterIP: 10.96.0.50
  ports: [{name: http, port: 80, nodePort: 30080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints:
- addresses: [10.244.1.5]
  nodeName: node-1
ports: [{name: http, port: 8080, protocol: TCP}]
`;

function payload(layer: NodeConfigLayer, text = service, file = 'in.yaml'): string[] {
  const loaded = loadCluster([{ file, text }]);
  if (!loaded.cluster) throw new Error(JSON.stringify(loaded.diagnostics));
  const config = resolveNodeConfig({ nodeName: 'node-1', nodeIP: '192.168.0.2', clusterCIDR: '10.244.0.0/16' }, layer);
  return renderRestore(compileIptables(loaded.cluster, config)).split('\n');
}

describe('iptables compiler settings', () => {
  it('masqueradeAll marks every ClusterIP packet, without the detector match', () => {
    const rule = payload({ masqueradeAll: true }).find((line) => /^-A KUBE-SVC-\S+ .*cluster IP.*KUBE-MARK-MASQ$/.test(line));
    expect(rule?.replace(/KUBE-SVC-\S+/, 'KUBE-SVC-h')).toBe(
      '-A KUBE-SVC-h -m comment --comment "shop/web:http cluster IP" -m tcp -p tcp -d 10.96.0.50 --dport 80 -j KUBE-MARK-MASQ',
    );
  });

  it.each([
    [{ mode: 'BridgeInterface', bridgeInterface: 'cbr0' } as const, '! -i cbr0'],
    [{ mode: 'InterfaceNamePrefix', interfacePrefix: 'veth' } as const, '! -i veth+'],
  ])('the %o detector writes %s', (localDetector, match) => {
    expect(payload({ localDetector }).some((line) => line.endsWith(`--dport 80 ${match} -j KUBE-MARK-MASQ`))).toBe(true);
  });

  it('without a detector there is no ClusterIP masquerade rule', () => {
    const lines = payload({ localDetector: { mode: 'None' } });
    expect(lines.filter((line) => line.includes('cluster IP') && line.includes('KUBE-MARK-MASQ'))).toEqual([]);
  });

  it('specific nodePortAddresses give one KUBE-NODEPORTS jump per node address, loopback only with localhost NodePorts', () => {
    const interfaces = { lo: ['127.0.0.1/8'], eth0: ['192.168.0.2/24', '192.168.1.9/24'], eth1: ['172.16.0.4/16'] };
    const lines = payload({ interfaces, nodePortAddresses: ['192.168.0.0/16', '127.0.0.0/8'] });
    const jumps = lines.filter((line) => line.startsWith('-A KUBE-SERVICES') && line.includes('-j KUBE-NODEPORTS'));
    expect(jumps.map((line) => line.split(' -d ')[1])).toEqual([
      '127.0.0.1 -j KUBE-NODEPORTS',
      '192.168.0.2 -j KUBE-NODEPORTS',
      '192.168.1.9 -j KUBE-NODEPORTS',
    ]);
    // No CIDR covers loopback: localhost NodePorts are turned off, and with them KUBE-FIREWALL.
    const noLoopback = payload({ interfaces, nodePortAddresses: ['192.168.0.0/16'] });
    expect(noLoopback.some((line) => line.includes('KUBE-FIREWALL'))).toBe(false);
    expect(noLoopback.some((line) => line.includes('-d 127.0.0.1'))).toBe(false);
  });

  it('localhostNodePorts false keeps loopback out of the match-all NodePort rule', () => {
    expect(payload({ localhostNodePorts: false })).toContain(
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS',
    );
  });

  it('--random-fully, the nfacct counters and tcp_be_liberal follow the node', () => {
    const plain = payload({
      hasRandomFully: false,
      conntrackTCPLiberal: true,
      nfacctCounters: { ct_state_invalid_dropped_pkts: false, localhost_nps_accepted_pkts: false },
    });
    expect(plain).toContain('-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE');
    expect(plain.some((line) => line.includes('INVALID') || line.includes('nfacct'))).toBe(false);
    const full = payload({});
    expect(full.some((line) => line.endsWith('-j MASQUERADE --random-fully'))).toBe(true);
    expect(full.some((line) => line.includes('-d 127.0.0.0/8 --dport 30080 -m nfacct --nfacct-name localhost_nps_accepted_pkts'))).toBe(true);
  });

  it('the mark comes from masqueradeBit as Go prints it', () => {
    expect(payload({ masqueradeBit: 5 })).toContain('-A KUBE-MARK-MASQ -j MARK --or-mark 0x00000020');
  });

  it('drops the per-endpoint comments above 1,000 endpoints (large-cluster mode)', () => {
    const big = payload({}, syntheticJson({ services: 101, endpointsPerService: 10 }), 'big.json');
    const sep = big.filter((line) => line.startsWith('-A KUBE-SEP-'));
    expect(sep.length).toBe(2 * 1010);
    expect(sep.some((line) => line.includes('--comment'))).toBe(false);
    expect(big.some((line) => line.startsWith('-A KUBE-SVC-') && line.includes(' -> '))).toBe(false);
    expect(big.some((line) => line.startsWith('-A KUBE-SVC-') && line.includes('cluster IP'))).toBe(true);
    const small = payload({}, syntheticJson({ services: 100, endpointsPerService: 10 }), 'small.json');
    expect(small.filter((line) => line.startsWith('-A KUBE-SEP-')).every((line) => line.includes('--comment'))).toBe(true);
  });
});
