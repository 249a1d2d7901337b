import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { buildCluster, podCIDRForNode } from '../src/cluster/build.js';
import type { EndpointSlice } from '../src/cluster/types.js';
import { loadManifests } from '../src/model/load.js';
import { conformancePath, repoRoot } from './helpers.js';

function build(text: string, file = 'in.yaml') {
  const loaded = loadManifests([{ file, text }]);
  expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return buildCluster(loaded.objects);
}

function warnings(text: string): string[] {
  return build(text).diagnostics.map((d) => `${d.severity}:${d.code}@${d.line}:${d.col}`);
}

/** A slice as `addressType [ports] ip(ready/serving/terminating)@node ...`, for compact assertions. */
function show(slice: EndpointSlice): string {
  const ports = slice.ports.map((p) => `${p.name}:${p.port}/${p.protocol}`).join(',');
  const eps = slice.endpoints.map((e) => {
    const flag = (b: boolean | null) => (b === null ? '-' : b ? 'T' : 'F');
    return `${e.addresses.join('|')}(${flag(e.ready)}${flag(e.serving)}${flag(e.terminating)})${e.nodeName ? `@${e.nodeName}` : ''}`;
  });
  return `${slice.namespace}/${slice.serviceName} ${slice.origin} ${slice.addressType} [${ports}] ${eps.join(' ')}`;
}

const service = (spec: string, name = 'web') =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  clusterIP: 10.96.0.10\n${spec}---\n`;

interface PodSpec {
  name: string;
  ip?: string;
  ips?: string[];
  labels?: string;
  node?: string;
  ready?: boolean;
  deleting?: boolean;
  phase?: string;
  ports?: string;
  namespace?: string;
}

const pod = (p: PodSpec) => `apiVersion: v1
kind: Pod
metadata:
  name: ${p.name}
  namespace: ${p.namespace ?? 'default'}
  labels: {${p.labels ?? 'app: web'}}
${p.deleting ? '  deletionTimestamp: "2024-01-01T00:00:00Z"\n' : ''}spec:
${p.node ? `  nodeName: ${p.node}\n` : ''}  containers:
  - name: c
    ports: [${p.ports ?? ''}]
status:
  phase: ${p.phase ?? 'Running'}
${p.ip ? `  podIP: ${p.ip}\n` : ''}${p.ips ? `  podIPs: [${p.ips.map((ip) => `{ip: "${ip}"}`).join(', ')}]\n` : ''}  conditions:
  - type: Ready
    status: "${p.ready === false ? 'False' : 'True'}"
---
`;

describe('Endpoints mirroring (Service without selector)', () => {
  test('google-map: two external addresses on port 80', () => {
    const r = build(
      `${service('  ports:\n  - port: 80\n', 'google-map')}apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: google-map\nsubsets:\n- addresses:\n  - ip: 11.11.11.11\n  - ip: 22.22.22.22\n  ports:\n  - port: 80\n`,
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.cluster.slices.map(show)).toEqual(['default/google-map endpoints IPv4 [:80/TCP] 11.11.11.11(T--) 22.22.22.22(T--)']);
    expect(r.cluster.slices[0]?.ports[0]?.name).toBe('');
  });

  test('subsets, notReadyAddresses, named ports and families', () => {
    const r = build(`${service('  ports:\n  - name: a\n    port: 80\n  - name: b\n    port: 81\n    protocol: UDP\n', 'ext')}apiVersion: v1
kind: Endpoints
metadata: {name: ext}
subsets:
- addresses: [{ip: 10.0.0.1, nodeName: n1}, {ip: "2001:db8::1"}]
  notReadyAddresses: [{ip: 10.0.0.2}]
  ports: [{name: a, port: 8080}, {name: b, port: 8081, protocol: UDP}]
- addresses: [{ip: 10.0.0.3}]
  ports: [{name: a, port: 9090}]
`);
    expect(r.cluster.slices.map(show)).toEqual([
      'default/ext endpoints IPv4 [a:8080/TCP,b:8081/UDP] 10.0.0.1(T--)@n1 10.0.0.2(F--)',
      'default/ext endpoints IPv6 [a:8080/TCP,b:8081/UDP] 2001:db8::1(T--)',
      'default/ext endpoints IPv4 [a:9090/TCP] 10.0.0.3(T--)',
    ]);
  });

  test('skip-mirror Endpoints are left alone', () => {
    const r = build(
      `${service('  ports:\n  - port: 80\n', 'm')}apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: m\n  labels: {endpointslice.kubernetes.io/skip-mirror: "true"}\nsubsets:\n- addresses: [{ip: 10.0.0.1}]\n  ports: [{port: 80}]\n`,
    );
    expect(r.cluster.slices).toEqual([]);
  });
});

describe('the endpoint controller (Service with selector)', () => {
  const named = service('  ports:\n  - name: http\n    port: 80\n    targetPort: http\n  - name: https\n    port: 443\n    targetPort: https\n  selector: {app: web}\n');
  const both = '{name: http, containerPort: 8080}, {name: https, containerPort: 8443}';

  test('named ports resolve per Pod from containerPorts', () => {
    const r = build(named + pod({ name: 'a', ip: '10.244.1.5', node: 'node-1', ports: both }) + pod({ name: 'b', ip: '10.244.2.7', node: 'node-2', ports: both }));
    expect(r.diagnostics).toEqual([]);
    expect(r.cluster.slices.map(show)).toEqual([
      'default/web pods IPv4 [http:8080/TCP,https:8443/TCP] 10.244.1.5(TTF)@node-1 10.244.2.7(TTF)@node-2',
    ]);
    expect(r.cluster.slices[0]?.endpoints[0]?.pod).toBe('default/a');
  });

  test('a Pod without the port name is left out of that port (its own slice)', () => {
    const r = build(named + pod({ name: 'a', ip: '10.244.1.5', ports: both }) + pod({ name: 'b', ip: '10.244.1.6', ports: '{name: http, containerPort: 9090}' }));
    expect(r.cluster.slices.map(show)).toEqual([
      'default/web pods IPv4 [http:8080/TCP,https:8443/TCP] 10.244.1.5(TTF)',
      'default/web pods IPv4 [http:9090/TCP] 10.244.1.6(TTF)',
    ]);
  });

  test('named port with another protocol does not match', () => {
    const r = build(named + pod({ name: 'a', ip: '10.244.1.5', ports: '{name: http, containerPort: 8080, protocol: UDP}' }));
    expect(r.cluster.slices.map(show)).toEqual(['default/web pods IPv4 [] 10.244.1.5(TTF)']);
    expect(r.diagnostics.map((d) => `${d.code}@${d.line}:${d.col}`)).toEqual([
      'W_NAMED_PORT_UNRESOLVED@10:17',
      'W_NAMED_PORT_UNRESOLVED@13:17',
    ]);
  });

  test('readiness, terminating, no IP, terminal phases, other namespaces and labels', () => {
    const svc = service('  ports:\n  - port: 80\n    targetPort: 8080\n  selector: {app: web}\n');
    const r = build(
      svc +
        pod({ name: 'ready', ip: '10.0.0.1', node: 'n1' }) +
        pod({ name: 'unready', ip: '10.0.0.2', ready: false }) +
        pod({ name: 'leaving', ip: '10.0.0.3', deleting: true }) +
        pod({ name: 'leaving-unready', ip: '10.0.0.4', deleting: true, ready: false }) +
        pod({ name: 'pending' }) +
        pod({ name: 'done', ip: '10.0.0.5', phase: 'Succeeded' }) +
        pod({ name: 'failed', ip: '10.0.0.6', phase: 'Failed' }) +
        pod({ name: 'elsewhere', ip: '10.0.0.7', namespace: 'other' }) +
        pod({ name: 'other-app', ip: '10.0.0.8', labels: 'app: db' }),
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.cluster.slices.map(show)).toEqual([
      'default/web pods IPv4 [:8080/TCP] 10.0.0.3(FTT) 10.0.0.4(FFT) 10.0.0.1(TTF)@n1 10.0.0.2(FFF)',
    ]);
    expect(r.cluster.pods).toHaveLength(9);
  });

  test('publishNotReadyAddresses marks every Pod ready', () => {
    const svc = service('  publishNotReadyAddresses: true\n  ports:\n  - port: 80\n  selector: {app: web}\n');
    expect(build(svc + pod({ name: 'a', ip: '10.0.0.2', ready: false })).cluster.slices.map(show)).toEqual([
      'default/web pods IPv4 [:80/TCP] 10.0.0.2(TTF)',
    ]);
  });

  test('dual-stack Pods publish the Service families only; headless takes the Pods families', () => {
    const ips = ['10.0.0.1', 'fd00::1'];
    const single = service('  ports:\n  - port: 80\n  selector: {app: web}\n');
    expect(build(single + pod({ name: 'a', ips })).cluster.slices.map(show)).toEqual(['default/web pods IPv4 [:80/TCP] 10.0.0.1(TTF)']);
    const headless = 'apiVersion: v1\nkind: Service\nmetadata: {name: h}\nspec:\n  clusterIP: None\n  selector: {app: web}\n---\n';
    expect(build(headless + pod({ name: 'a', ips })).cluster.slices.map(show)).toEqual([
      'default/h pods IPv4 [] 10.0.0.1(TTF)',
      'default/h pods IPv6 [] fd00::1(TTF)',
    ]);
  });

  test('more than 100 endpoints are split into slices of 100', () => {
    let text = service('  ports:\n  - port: 80\n  selector: {app: web}\n');
    for (let i = 0; i < 250; i++) text += pod({ name: `p${String(i).padStart(3, '0')}`, ip: `10.1.${i >> 8}.${i & 255}` });
    expect(build(text).cluster.slices.map((s) => s.endpoints.length)).toEqual([100, 100, 50]);
  });

  test('ExternalName Services get no endpoints', () => {
    const text = 'apiVersion: v1\nkind: Service\nmetadata: {name: g}\nspec: {type: ExternalName, externalName: maps.googleapis.com, selector: {app: web}}\n---\n';
    const r = build(text + pod({ name: 'a', ip: '10.0.0.1' }));
    expect(r.cluster.slices).toEqual([]);
    expect(r.diagnostics).toEqual([]);
  });
});

describe('precedence and warnings', () => {
  const slice = (service: string, name = `${service}-1`) =>
    `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: ${name}\n  labels: {kubernetes.io/service-name: ${service}}\naddressType: IPv4\nendpoints:\n- addresses: [10.9.9.9]\nports:\n- {name: "", port: 80, protocol: TCP}\n---\n`;
  const selectorService = service('  ports:\n  - port: 80\n  selector: {app: web}\n');

  test('EndpointSlices of the input win over Pods, and no selector warning fires', () => {
    const r = build(selectorService + slice('web'));
    expect(r.diagnostics).toEqual([]);
    expect(r.cluster.slices.map(show)).toEqual(['default/web input IPv4 [:80/TCP] 10.9.9.9(---)']);
  });

  test('W_SELECTOR_NO_MATCH points at the selector', () => {
    expect(warnings(selectorService)).toEqual(['warning:W_SELECTOR_NO_MATCH@9:13']);
    expect(warnings(selectorService + pod({ name: 'a', ip: '10.0.0.1', labels: 'app: other' }))).toEqual([
      'warning:W_SELECTOR_NO_MATCH@9:13',
    ]);
  });

  test('W_NAMED_PORT_UNRESOLVED points at the targetPort', () => {
    const svc = service('  ports:\n  - port: 80\n    targetPort: http\n  selector: {app: web}\n');
    expect(warnings(svc + pod({ name: 'a', ip: '10.0.0.1' }))).toEqual(['warning:W_NAMED_PORT_UNRESOLVED@9:17']);
  });

  test('W_ORPHAN_ENDPOINTS for slices and Endpoints without a Service', () => {
    const endpoints = 'apiVersion: v1\nkind: Endpoints\nmetadata: {name: lost}\nsubsets: []\n---\n';
    const unlabelled = 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: x}\naddressType: IPv4\n---\n';
    expect(warnings(slice('nobody') + endpoints + unlabelled)).toEqual([
      'warning:W_ORPHAN_ENDPOINTS@1:1',
      'warning:W_ORPHAN_ENDPOINTS@14:18',
      'warning:W_ORPHAN_ENDPOINTS@17:1',
    ]);
  });

  test('W_SELECTOR_AND_ENDPOINTS for hand-written Endpoints, not for controller-written ones', () => {
    const manual = 'apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: web\nsubsets:\n- addresses: [{ip: 10.0.0.9}]\n  ports: [{port: 80}]\n---\n';
    const r = build(selectorService + manual + pod({ name: 'a', ip: '10.0.0.1' }));
    expect(r.diagnostics.map((d) => `${d.code}@${d.line}:${d.col}`)).toEqual(['W_SELECTOR_AND_ENDPOINTS@14:9']);
    expect(r.cluster.slices.map(show)).toEqual(['default/web pods IPv4 [:80/TCP] 10.0.0.1(TTF)']);
    const managed = manual.replace('  name: web\n', '  name: web\n  annotations: {endpoints.kubernetes.io/last-change-trigger-time: "2024-01-01T00:00:00Z"}\n');
    expect(build(selectorService + managed + pod({ name: 'a', ip: '10.0.0.1' })).diagnostics).toEqual([]);
  });
});

describe('nodes', () => {
  test('podCIDRForNode reads the Node objects', () => {
    const text = 'apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\nspec:\n  podCIDR: 10.244.1.0/24\n  podCIDRs: [10.244.1.0/24, "fd00:1::/64"]\nstatus:\n  addresses:\n  - {type: InternalIP, address: 192.168.0.2}\n  - {type: Hostname, address: node-1}\n';
    const { cluster } = build(text);
    expect(podCIDRForNode(cluster, 'node-1', 4)).toBe('10.244.1.0/24');
    expect(podCIDRForNode(cluster, 'node-1', 6)).toBe('fd00:1::/64');
    expect(podCIDRForNode(cluster, 'node-2', 4)).toBeUndefined();
    expect(cluster.nodes?.[0]?.addresses).toEqual([{ type: 'InternalIP', address: '192.168.0.2' }]);
  });
});

describe('reference inputs build without diagnostics', () => {
  const root = conformancePath('iptables');
  const cases = existsSync(root) ? readdirSync(root).filter((c) => existsSync(path.join(root, c, 'input.yaml'))) : [];
  test.each(cases)('conformance %s', (c) => {
    const file = path.join(root, c, 'input.yaml');
    const loaded = loadManifests([{ file, text: readFileSync(file, 'utf8') }]);
    const r = buildCluster(loaded.objects);
    expect(r.diagnostics).toEqual([]);
    // The input's slices are used as they are; nothing is derived.
    expect(r.cluster.slices.every((s) => s.origin === 'input')).toBe(true);
  });

  test('rulesets/kubia-named-ports resolves http/https to 8080/8443', () => {
    const file = path.join(repoRoot, 'rulesets', 'kubia-named-ports', 'kubia-named-ports.yaml');
    if (!existsSync(file)) return;
    const loaded = loadManifests([{ file, text: readFileSync(file, 'utf8') }]);
    const r = buildCluster(loaded.objects);
    expect(r.diagnostics).toEqual([]);
    expect(r.cluster.slices.map(show)).toEqual([
      'default/kubia pods IPv4 [http:8080/TCP,https:8443/TCP] 10.244.1.5(TTF)@node-1 10.244.1.6(TTF)@node-1 10.244.2.7(TTF)@node-2',
    ]);
  });
});
