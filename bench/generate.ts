/**
 * Synthetic clusters for benchmarks: N ClusterIP Services with M ready endpoints each, as one `kind: List`
 * (what `kubectl get svc,endpointslices -A -o json|yaml` prints). Addresses are deterministic.
 */
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import type { Cluster } from '../src/cluster/types.js';
import type { PacketSpec } from '../src/emulate/packet.js';
import { loadCluster } from '../src/index.js';

export interface SyntheticCluster {
  services: number;
  endpointsPerService: number;
}

export function syntheticList({ services, endpointsPerService }: SyntheticCluster): unknown {
  const items: unknown[] = [];
  for (let i = 0; i < services; i++) {
    const name = `svc-${i}`;
    const namespace = `ns-${i % 50}`;
    items.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace, resourceVersion: String(1000 + i) },
      spec: {
        type: 'ClusterIP',
        clusterIP: syntheticClusterIP(i),
        ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
        selector: { app: name },
      },
    });
    items.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-abcde`, namespace, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: Array.from({ length: endpointsPerService }, (_, k) => {
        const n = i * endpointsPerService + k;
        return {
          addresses: [`10.${128 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`],
          conditions: { ready: true, serving: true, terminating: false },
          nodeName: `node-${n % 20}`,
        };
      }),
    });
  }
  return { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } };
}

export function syntheticJson(size: SyntheticCluster): string {
  return JSON.stringify(syntheticList(size), null, 2);
}

export function syntheticYaml(size: SyntheticCluster): string {
  return stringify(syntheticList(size));
}

/** The ClusterIP of synthetic Service `i`. */
export function syntheticClusterIP(i: number): string {
  return `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
}

/** The synthetic cluster, loaded as the CLI loads a JSON List. */
export function syntheticCluster(size: SyntheticCluster): Cluster {
  const loaded = loadCluster([{ file: 'synthetic.json', text: syntheticJson(size) }]);
  if (!loaded.cluster) throw new Error('synthetic cluster did not load');
  return loaded.cluster;
}

/** Traces per second of `count` pod → ClusterIP packets spread over the first `services` Services. */
export function tracesPerSecond(trace: (packet: PacketSpec) => unknown, services: number, count: number): number {
  const start = performance.now();
  for (let k = 0; k < count; k++) {
    trace({ protocol: 'tcp', source: '10.200.0.9', destination: syntheticClusterIP((k * 7919) % services), destinationPort: 80 });
  }
  return (count / (performance.now() - start)) * 1000;
}
