import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { loadManifests } from '../src/model/load.js';
import { MODEL_CODES } from '../src/model/codes.js';
import type { KubeObject, ServiceObject } from '../src/model/objects.js';
import { conformancePath, kubectlListYaml, repoRoot } from './helpers.js';

/** Most cases leave clusterIP out for brevity; its warning has a test of its own. */
const notUnsetIP = (d: { code: string }) => d.code !== 'W_CLUSTER_IP_UNSET';

/** Diagnostics as `CODE@line:col`, sorted; what the tests compare (never prose). */
function codes(text: string, file = 'in.yaml'): string[] {
  return loadManifests([{ file, text }]).diagnostics.filter(notUnsetIP).map((d) => `${d.code}@${d.line}:${d.col}`);
}

function load(text: string, file = 'in.yaml') {
  return loadManifests([{ file, text }]);
}

function onlyService(text: string): ServiceObject {
  const r = load(text);
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const s = r.objects.find((o): o is ServiceObject => o.kind === 'Service');
  if (!s) throw new Error('no service');
  return s;
}

const svc = (spec: string, name = 'web') => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
${spec}`;

describe('errors have codes and the position of the offending node', () => {
  const cases: [string, string, string[]][] = [
    ['broken YAML', 'apiVersion: v1\nkind: [Service\n', ['E_YAML_SYNTAX@3:1']],
    ['bad indentation', 'a:\n  b: 1\n c: 2\n', ['E_YAML_SYNTAX@3:1']],
    ['binary (NUL)', 'apiVersion: v1\nkind: Se\u0000rvice\n', ['E_BINARY@2:9']],
    ['invalid UTF-8 decoded lossily', 'kind: \ufffd\n', ['E_BINARY@1:7']],
    ['invalid UTF-8 inside valid JSON', '{"apiVersion": "v1",\n "kind": "\ufffd"}', ['E_BINARY@2:11']],
    ['NUL inside JSON', '{"apiVersion": "v1",\n "kind": "S\u0000"}', ['E_BINARY@2:12']],
    ['JSON trailing garbage', '{"apiVersion": "v1", "kind": "Service"} xyz', ['E_YAML_SYNTAX@1:41']],
    ['JSON two objects', '{"kind": "Pod"}\n{"kind": "Pod"}', ['E_YAML_SYNTAX@2:1']],
    ['duplicate keys', 'apiVersion: v1\napiVersion: v1\n', ['E_YAML_SYNTAX@2:1']],
    ['not an object', '- a\n- b\n', ['E_FIELD@1:1']],
    ['missing kind', 'apiVersion: v1\nmetadata: {name: a}\n', ['E_FIELD@1:1']],
    ['missing apiVersion', 'kind: Service\nmetadata: {name: a}\n', ['E_API_VERSION@1:1']],
    ['apps/v1 Service', 'apiVersion: apps/v1\nkind: Service\nmetadata: {name: a}\n', ['E_API_VERSION@1:13']],
    [
      'EndpointSlice v1beta1',
      'apiVersion: discovery.k8s.io/v1beta1\nkind: EndpointSlice\nmetadata: {name: a}\naddressType: IPv4\n',
      ['E_API_VERSION@1:13'],
    ],
    ['Pod apps/v1', 'apiVersion: apps/v1\nkind: Pod\nmetadata: {name: a}\n', ['E_API_VERSION@1:13']],
    ['invalid clusterIP', svc('  clusterIP: 10.0.0.300\n  ports:\n  - port: 80\n'), ['E_INVALID_IP@6:14']],
    ['invalid externalIP', svc('  externalIPs: [1.2.3]\n  ports:\n  - port: 80\n'), ['E_INVALID_IP@6:17']],
    ['invalid source range', svc('  loadBalancerSourceRanges: ["10.0.0.0/33"]\n  ports:\n  - port: 80\n'), ['E_INVALID_IP@6:30']],
    ['port 0', svc('  ports:\n  - port: 0\n'), ['E_PORT_RANGE@7:11']],
    ['port 65536', svc('  ports:\n  - port: 65536\n'), ['E_PORT_RANGE@7:11']],
    ['port as string', svc('  ports:\n  - port: "80"\n'), ['E_PORT_RANGE@7:11']],
    ['port missing', svc('  ports:\n  - name: http\n'), ['E_PORT_RANGE@7:5']],
    ['nodePort 70000', svc('  type: NodePort\n  ports:\n  - port: 80\n    nodePort: 70000\n'), ['E_PORT_RANGE@9:15']],
    ['targetPort 70000', svc('  ports:\n  - port: 80\n    targetPort: 70000\n'), ['E_PORT_RANGE@8:17']],
    ['protocol lowercase', svc('  ports:\n  - port: 80\n    protocol: tcp\n'), ['E_PROTOCOL@8:15']],
    ['protocol ICMP', svc('  ports:\n  - port: 80\n    protocol: ICMP\n'), ['E_PROTOCOL@8:15']],
    ['missing spec.ports', svc('  clusterIP: 10.0.0.1\n'), ['E_MISSING_PORTS@6:3']],
    ['empty spec.ports', svc('  ports: []\n'), ['E_MISSING_PORTS@6:10']],
    ['missing spec', 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\n', ['E_MISSING_PORTS@1:1']],
    ['name with a space', svc('  ports:\n  - port: 80\n', '"a b"'), ['E_NAME@4:9']],
    ['name with a quote', svc('  ports:\n  - port: 80\n', `'a"b'`), ['E_NAME@4:9']],
    ['Service name is DNS-1035', svc('  ports:\n  - port: 80\n', '1web'), ['E_NAME@4:9']],
    ['name too long', svc('  ports:\n  - port: 80\n', 'a'.repeat(64)), ['E_NAME@4:9']],
    ['missing name', 'apiVersion: v1\nkind: Service\nmetadata: {}\nspec: {ports: [{port: 80}]}\n', ['E_NAME@3:11']],
    [
      'namespace uppercase',
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  namespace: Prod\nspec: {ports: [{port: 80}]}\n',
      ['E_NAME@5:14'],
    ],
    [
      'bad label value',
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  selector:\n    app: "x y"\n  ports: [{port: 80}]\n',
      ['E_NAME@7:10'],
    ],
    ['port name uppercase', svc('  ports:\n  - name: HTTP\n    port: 80\n'), ['E_PORT_NAME@7:11']],
    ['port name with --', svc('  ports:\n  - name: a--b\n    port: 80\n'), ['E_PORT_NAME@7:11']],
    ['port name without a letter', svc('  ports:\n  - name: "123"\n    port: 80\n'), ['E_PORT_NAME@7:11']],
    ['port name of 16 chars', svc('  ports:\n  - name: abcdefghijklmnop\n    port: 80\n'), ['E_PORT_NAME@7:11']],
    ['port name leading -', svc('  ports:\n  - name: -ab\n    port: 80\n'), ['E_PORT_NAME@7:11']],
    ['multi-port needs names', svc('  ports:\n  - name: a\n    port: 80\n  - port: 81\n'), ['E_PORT_NAME@9:5']],
    ['targetPort name invalid', svc('  ports:\n  - port: 80\n    targetPort: Web_1\n'), ['E_PORT_NAME@8:17']],
    ['duplicate port name', svc('  ports:\n  - name: a\n    port: 80\n  - name: a\n    port: 81\n'), ['E_DUPLICATE_PORT@9:11']],
    [
      'duplicate port/protocol',
      svc('  ports:\n  - name: a\n    port: 80\n  - name: b\n    port: 80\n'),
      ['E_DUPLICATE_PORT@10:11'],
    ],
    [
      'duplicate nodePort',
      svc('  type: NodePort\n  ports:\n  - name: a\n    port: 80\n    nodePort: 3001\n  - name: b\n    port: 81\n    nodePort: 3001\n'),
      ['E_DUPLICATE_PORT@13:15'],
    ],
    ['nodePort on type ClusterIP', svc('  type: ClusterIP\n  ports:\n  - port: 80\n    nodePort: 3001\n'), ['E_FIELD@9:15']],
    ['type enum', svc('  type: Internal\n  ports:\n  - port: 80\n'), ['E_FIELD@6:9']],
    ['sessionAffinity enum', svc('  sessionAffinity: Sticky\n  ports:\n  - port: 80\n'), ['E_FIELD@6:20']],
    [
      'timeout 0',
      svc('  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: 0\n  ports:\n  - port: 80\n'),
      ['E_FIELD@9:23'],
    ],
    [
      'timeout 86401',
      svc('  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: 86401\n  ports:\n  - port: 80\n'),
      ['E_FIELD@9:23'],
    ],
    ['externalTrafficPolicy enum', svc('  type: NodePort\n  externalTrafficPolicy: Global\n  ports:\n  - port: 80\n'), ['E_FIELD@7:26']],
    ['internalTrafficPolicy enum', svc('  internalTrafficPolicy: local\n  ports:\n  - port: 80\n'), ['E_FIELD@6:26']],
    ['ExternalName needs a name', svc('  type: ExternalName\n'), ['E_NAME@6:3']],
    ['headless NodePort', svc('  type: NodePort\n  clusterIP: None\n  ports:\n  - port: 80\n'), ['E_FIELD@7:14']],
    [
      'slice address of the wrong family',
      'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv4\nendpoints:\n- addresses: ["2001:db8::1"]\n',
      ['E_ADDRESS_TYPE@6:15'],
    ],
    [
      'slice address not an IP',
      'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv6\nendpoints:\n- addresses: [nope]\n',
      ['E_INVALID_IP@6:15'],
    ],
    [
      'slice addressType enum',
      'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv5\n',
      ['E_FIELD@4:14'],
    ],
    [
      'slice port protocol',
      'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv4\nports:\n- {name: a, port: 80, protocol: HTTP}\n',
      ['E_PROTOCOL@6:33'],
    ],
    [
      'slice with two unnamed ports',
      'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv4\nports:\n- {name: "", port: 80}\n- {name: "", port: 81}\n',
      ['E_DUPLICATE_PORT@7:10'],
    ],
    ['List items not a list', 'apiVersion: v1\nkind: List\nitems: {a: 1}\n', ['E_FIELD@3:8']],
    [
      'Endpoints address IP',
      'apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\nsubsets:\n- addresses:\n  - ip: 11.11.11\n  ports:\n  - port: 80\n',
      ['E_INVALID_IP@6:9'],
    ],
    [
      'Endpoints multi-port needs names',
      'apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\nsubsets:\n- ports:\n  - port: 80\n  - port: 81\n',
      ['E_PORT_NAME@6:5', 'E_PORT_NAME@7:5'],
    ],
    [
      'Pod containerPort range',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    ports:\n    - containerPort: 0\n',
      ['E_PORT_RANGE@8:22'],
    ],
    [
      'Pod podIP',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus:\n  podIP: 10.1.1\n',
      ['E_INVALID_IP@5:10'],
    ],
  ];
  test.each(cases)('%s', (_name, text, expected) => {
    expect(codes(text)).toEqual(expected);
  });

  test('every code emitted by these cases is documented', () => {
    for (const [, text] of cases) for (const c of codes(text)) expect(Object.keys(MODEL_CODES)).toContain(c.split('@')[0]);
  });
});

describe('all errors of all documents are collected', () => {
  test('one bad document does not hide the others, across files', () => {
    const r = loadManifests([
      {
        file: 'a.yaml',
        text: `${svc('  ports:\n  - port: 0\n', 'one')}---\nkey: [\n---\n${svc('  ports:\n  - port: 80\n    protocol: tcp\n', 'two')}`,
      },
      { file: 'b.json', text: '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x y"}, "spec": {"ports": [{"port": 1}]}}' },
    ]);
    expect(r.diagnostics.map((d) => `${d.file}:${d.code}@${d.line}:${d.col}`)).toEqual([
      'a.yaml:E_PORT_RANGE@7:11',
      'a.yaml:E_YAML_SYNTAX@10:1',
      'a.yaml:E_PROTOCOL@18:15',
      'b.json:E_NAME@1:62',
    ]);
    expect(r.objects).toEqual([]);
  });

  test('several errors in one object', () => {
    expect(codes(svc('  type: NodePort\n  ports:\n  - port: 0\n    protocol: tcp\n    nodePort: 99999\n'))).toEqual([
      'E_PORT_RANGE@8:11',
      'E_PROTOCOL@9:15',
      'E_PORT_RANGE@10:15',
    ]);
  });

  test('duplicate objects point at the second name', () => {
    const one = svc('  ports:\n  - port: 80\n');
    expect(codes(`${one}---\n${one}`)).toEqual(['E_DUPLICATE_OBJECT@12:9']);
    // Same name, different kind or namespace: no clash.
    const pod = 'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n';
    const other = 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: other}\nspec: {ports: [{port: 80}]}\n';
    expect(codes(`${one}---\n${pod}---\n${other}`)).toEqual([]);
  });

  test('duplicates across files', () => {
    const one = svc('  ports:\n  - port: 80\n');
    const r = loadManifests([{ file: 'a.yaml', text: one }, { file: 'b.yaml', text: one }]);
    expect(r.diagnostics.filter(notUnsetIP).map((d) => `${d.file}:${d.code}@${d.line}:${d.col}`)).toEqual(['b.yaml:E_DUPLICATE_OBJECT@4:9']);
    expect(r.objects).toHaveLength(1);
  });
});

describe('defaults and semantics', () => {
  test('API server defaults, spec.type left unset', () => {
    const s = onlyService(svc('  clusterIP: 10.0.0.1\n  ports:\n  - port: 80\n'));
    expect(s.namespace).toBe('default');
    expect(s.service.type).toBeUndefined();
    expect(s.service.sessionAffinity).toBe('None');
    expect(s.service.externalTrafficPolicy).toBeUndefined();
    expect(s.service.ports).toEqual([
      { name: '', protocol: 'TCP', port: 80, targetPort: 80, nodePort: 0, at: { file: 'in.yaml', line: 8, col: 5 } },
    ]);
    expect(s.service.at).toEqual({ file: 'in.yaml', line: 1, col: 1 });
  });

  test('ClientIP affinity defaults to 10800 seconds; targetPort 0 means port', () => {
    const s = onlyService(svc('  sessionAffinity: ClientIP\n  ports:\n  - port: 80\n    targetPort: 0\n'));
    expect(s.service.sessionAffinityTimeoutSeconds).toBe(10800);
    expect(s.service.ports[0]?.targetPort).toBe(80);
  });

  test('named targetPort and nodePort below 30000 (kube-proxy tests use 3001)', () => {
    const s = onlyService(svc('  type: NodePort\n  ports:\n  - name: http\n    port: 80\n    targetPort: http\n    nodePort: 3001\n'));
    expect(s.service.ports[0]).toMatchObject({ targetPort: 'http', nodePort: 3001 });
  });

  test('headless and ExternalName Services may omit ports', () => {
    expect(codes(svc('  clusterIP: None\n  selector: {app: a}\n'))).toEqual([]);
    expect(codes(svc('  type: ExternalName\n  externalName: maps.googleapis.com\n'))).toEqual([]);
  });

  test('a Service without clusterIP gets a warning (kube-proxy needs the allocated address)', () => {
    const r = load(svc('  ports:\n  - port: 80\n'));
    expect(r.diagnostics.map((d) => `${d.severity}:${d.code}@${d.line}:${d.col}`)).toEqual(['warning:W_CLUSTER_IP_UNSET@6:3']);
    expect(r.objects).toHaveLength(1);
    expect(codes(svc('  clusterIP: None\n  ports:\n  - port: 80\n'))).toEqual([]);
  });

  test('IPv4 leading zeros: accepted as written, with a warning', () => {
    const r = load(svc('  clusterIP: 172.30.0.041\n  externalIPs: [192.168.099.022]\n  ports:\n  - port: 80\n'));
    expect(r.diagnostics.map((d) => `${d.severity}:${d.code}@${d.line}:${d.col}`)).toEqual([
      'warning:W_IP_LEADING_ZEROS@6:14',
      'warning:W_IP_LEADING_ZEROS@7:17',
    ]);
    const s = r.objects[0] as ServiceObject;
    expect(s.service.clusterIP).toBe('172.30.0.041');
    expect(s.ipFamilies).toEqual([4]);
  });

  test('source ranges keep their whitespace (kube-proxy trims)', () => {
    const s = onlyService(svc("  type: LoadBalancer\n  loadBalancerSourceRanges: [' 203.0.113.0/25']\n  ports:\n  - port: 80\n"));
    expect(s.service.loadBalancerSourceRanges).toEqual([' 203.0.113.0/25']);
  });

  test('an empty selector is no selector', () => {
    expect(onlyService(svc('  selector: {}\n  ports:\n  - port: 80\n')).service.selector).toBeUndefined();
  });

  test('EndpointSlice: unset conditions stay null, unset port name stays null, protocol defaults to TCP', () => {
    const r = load(
      'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: s-1\n  labels: {kubernetes.io/service-name: s}\naddressType: IPv4\nendpoints:\n- addresses: [10.0.0.1]\n  nodeName: n1\nports:\n- port: 80\n',
    );
    expect(r.diagnostics).toEqual([]);
    const o = r.objects[0];
    if (o?.kind !== 'EndpointSlice') throw new Error('no slice');
    expect(o.slice).toMatchObject({
      serviceName: 's',
      ports: [{ name: null, port: 80, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.0.0.1'], ready: null, serving: null, terminating: null, nodeName: 'n1' }],
      origin: 'input',
    });
  });

  test('other kinds are skipped and listed', () => {
    const r = load('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: prod}\n---\nkind: ConfigMap\napiVersion: v1\n');
    expect(r.diagnostics).toEqual([]);
    expect(r.objects).toEqual([]);
    expect(r.skipped.map((s) => `${s.apiVersion} ${s.kind} ${s.namespace ?? ''}/${s.name ?? ''}@${s.at.line}`)).toEqual([
      'apps/v1 Deployment prod/web@1',
      'v1 ConfigMap /@5',
    ]);
  });

  test('empty documents and comments are fine', () => {
    expect(load('# nothing\n---\n---\n').diagnostics).toEqual([]);
    expect(load('').objects).toEqual([]);
  });
});


describe('kubectl List output', () => {
  test('YAML List with noise', () => {
    const r = load(kubectlListYaml);
    expect(r.diagnostics).toEqual([]);
    expect(r.objects.map((o) => `${o.kind} ${o.namespace}/${o.name}@${o.at.line}:${o.at.col}`)).toEqual([
      'Service default/kubia@3:3',
      'EndpointSlice default/kubia-x7k2p@40:3',
    ]);
    expect(r.skipped.map((s) => s.kind)).toEqual(['Deployment']);
    const slice = r.objects[1];
    if (slice?.kind !== 'EndpointSlice') throw new Error('no slice');
    expect(slice.slice.endpoints[0]).toMatchObject({ pod: 'default/kubia-a', ready: true, nodeName: 'node-1' });
    expect(slice.slice.ports[0]).toEqual({ name: '', port: 8080, protocol: 'TCP' });
    expect((r.objects[0] as ServiceObject).service.type).toBe('ClusterIP');
  });

  test('the same List as kubectl -o json', () => {
    const yaml = load(kubectlListYaml);
    const jsonText = JSON.stringify(
      { apiVersion: 'v1', kind: 'List', items: (yaml.objects as unknown[]).length ? JSON.parse(jsonOfList()) : [] },
      null,
      4,
    );
    const r = load(jsonText, 'list.json');
    expect(r.diagnostics).toEqual([]);
    expect(stripPositions(r.objects)).toEqual(stripPositions(yaml.objects));
  });

  test('errors inside a JSON List point into the JSON text', () => {
    const text = `{
    "apiVersion": "v1",
    "kind": "List",
    "items": [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}, "spec": {"ports": [{"port": 80}]}},
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "b"},
            "spec": {"ports": [{"port": 80, "protocol": "tcp"}]}
        }
    ]
}`;
    expect(codes(text, 'l.json')).toEqual(['E_PROTOCOL@10:57']);
    const ok = load(text.replace('"tcp"', '"UDP"'), 'l.json');
    expect(ok.objects.map((o) => `${o.name}@${o.at.line}:${o.at.col}/${o.nameAt.line}:${o.nameAt.col}`)).toEqual([
      'a@5:9/5:70',
      'b@6:9/9:34',
    ]);
  });

  test('a List without apiVersion of its own', () => {
    expect(codes('kind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n  spec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}\n')).toEqual([]);
  });

  test('typed lists (ServiceList from the API) give their kind to items without one', () => {
    const text = JSON.stringify({
      apiVersion: 'v1',
      kind: 'ServiceList',
      metadata: { resourceVersion: '1' },
      items: [{ metadata: { name: 'a', namespace: 'x' }, spec: { clusterIP: '10.0.0.1', ports: [{ port: 53, protocol: 'UDP' }] } }],
    });
    const r = load(text, 's.json');
    expect(r.diagnostics).toEqual([]);
    expect(r.objects.map((o) => `${o.kind} ${o.namespace}/${o.name}`)).toEqual(['Service x/a']);
  });
});

function jsonOfList(): string {
  // The items of kubectlListYaml, as kubectl -o json would print them.
  return JSON.stringify([
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubia', namespace: 'default', resourceVersion: '12345', uid: 'x', managedFields: [{ manager: 'kubectl' }] },
      spec: {
        clusterIP: '10.96.0.10',
        clusterIPs: ['10.96.0.10'],
        internalTrafficPolicy: 'Cluster',
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }],
        selector: { app: 'kubia' },
        sessionAffinity: 'None',
        type: 'ClusterIP',
      },
      status: { loadBalancer: {} },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      addressType: 'IPv4',
      endpoints: [
        {
          addresses: ['10.244.1.5'],
          conditions: { ready: true, serving: true, terminating: false },
          nodeName: 'node-1',
          targetRef: { kind: 'Pod', name: 'kubia-a', namespace: 'default' },
          zone: 'z1',
        },
      ],
      metadata: {
        labels: { 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', 'kubernetes.io/service-name': 'kubia' },
        name: 'kubia-x7k2p',
        namespace: 'default',
      },
      ports: [{ name: '', port: 8080, protocol: 'TCP' }],
    },
  ]);
}

function stripPositions(objects: KubeObject[]): unknown {
  return JSON.parse(JSON.stringify(objects, (k, v) => (k === 'at' || k === 'nameAt' || k === 'selectorAt' || k === 'targetPortAt' || (k === 'labels' && v && v['endpointslice.kubernetes.io/managed-by']) ? undefined : v)));
}

describe('JSON positions', () => {
  test('escaped keys, braces inside strings, unicode and CRLF do not confuse the scanner', () => {
    const text = [
      '{',
      '  "kind": "List", "apiVersion": "v1", "x\\"}": "{[\\"]}",',
      '  "items": [',
      '    {"note": "é}]", "apiVersion": "v1", "kind": "Service",',
      '     "metadata": {"name": "a", "labels": {"k": "v"}},',
      '     "spec": {"clusterIP": "10.0.0.1", "ports": [{"port": 80, "protocol": "tcp"}]}}',
      '  ]',
      '}',
    ].join('\r\n');
    expect(JSON.parse(text)).toBeTruthy();
    expect(codes(text, 'x.json')).toEqual(['E_PROTOCOL@6:75']);
  });
});

describe('hostile input', () => {
  test('an alias bomb is refused quickly', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const text = `${levels.join('\n')}\n`;
    const start = performance.now();
    expect(codes(text)).toEqual(['E_YAML_ALIASES@1:1']);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  test('deep nesting does not throw', () => {
    expect(() => load(`${'['.repeat(5000)}${']'.repeat(5000)}`)).not.toThrow();
    expect(() => load(`${'- '.repeat(2000)}x`)).not.toThrow();
    // Block mappings, each indented one deeper: beyond what the block reader follows, and the yaml package's stack.
    const deep = Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n');
    expect(codes(deep).every((c) => c.startsWith('E_YAML_SYNTAX@'))).toBe(true);
    // A label value nested thousands deep is described, not printed.
    const labels = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}}}`;
    expect(codes(labels, 'x.json')).toEqual(['E_NAME@1:70']);
  });

  test('a bad port does not hide a bad address of the same EndpointSlice', () => {
    const text = [
      'apiVersion: discovery.k8s.io/v1',
      'kind: EndpointSlice',
      'metadata: {name: s-1, labels: {kubernetes.io/service-name: s}}',
      'addressType: IPv4',
      'endpoints:',
      '- addresses: ["10.0.0.300", "10.0.0.1", fd00::1]',
      '- null',
      'ports:',
      '- {name: http, port: 70000}',
      '',
    ].join('\n');
    expect(codes(text)).toEqual(['E_INVALID_IP@6:15', 'E_ADDRESS_TYPE@6:41', 'E_FIELD@7:3', 'E_PORT_RANGE@9:22']);
  });

  test('JSON with a duplicate key is refused as YAML refuses it, not read last-key-wins', () => {
    const service = (extra: string) =>
      `{"apiVersion": "v1", "kind": "Service", ${extra}"metadata": {"name": "a"}, "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 80}]}}`;
    expect(codes(service('"kind": "Pod", '), 'x.json')).toEqual(['E_YAML_SYNTAX@1:41']);
    expect(codes(service('"metadata" : {"labels": {"a": "1", "a" :"2"}}, '), 'x.json')).toEqual(['E_YAML_SYNTAX@1:76']);
    // Colons inside strings, escaped quotes and spaces before colons are not keys.
    expect(codes(service('"status": {"loadBalancer": {}}, "x" : "a \\" : b:c", '), 'x.json')).toEqual([]);
  });

  test('an alias with no anchor is a syntax error at the alias, not an alias bomb', () => {
    const text = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: *nosuch\n';
    const r = load(text);
    expect(r.diagnostics.map((d) => [d.code, d.line, d.col, d.message])).toEqual([
      ['E_YAML_SYNTAX', 4, 9, 'alias *nosuch has no anchor &nosuch before it in this document'],
    ]);
  });

  test('random text never throws', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        const r = load(text);
        expect(Array.isArray(r.diagnostics)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  test('random YAML-ish manifests never throw', () => {
    const token = fc.constantFrom(
      'apiVersion: v1\n', 'kind: Service\n', 'kind: EndpointSlice\n', 'kind: List\n', 'items:\n', '- ', 'metadata:\n',
      '  name: a\n', 'spec:\n', '  ports:\n', '  - port: 80\n', '    protocol: UDP\n', '---\n', '{', '}', '[', ']', ':', ' ', '&a ', '*a ',
      'addressType: IPv4\n', 'endpoints: [{addresses: [1.2.3.4]}]\n', 'null\n', '"', "'", '\t', '#', '0x10\n', 'subsets:\n',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 40 }), (tokens) => {
        const r = load(tokens.join(''));
        expect(Array.isArray(r.objects)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('reference inputs load without errors', () => {
  const root = conformancePath('iptables');
  const cases = existsSync(root)
    ? readdirSync(root).filter((c) => existsSync(path.join(root, c, 'input.yaml')))
    : [];
  test.each(cases)('conformance %s', (c) => {
    const file = path.join(root, c, 'input.yaml');
    const r = loadManifests([{ file, text: readFileSync(file, 'utf8') }]);
    expect(r.diagnostics).toEqual([]);
    expect(r.objects.length).toBeGreaterThan(0);
  });

  const rulesets = path.join(repoRoot, 'rulesets');
  const examples = existsSync(rulesets) ? readdirSync(rulesets).filter((d) => !d.includes('.')) : [];
  test.each(examples)('rulesets/%s', (dir) => {
    const files = readdirSync(path.join(rulesets, dir)).filter((f) => /\.(ya?ml|json)$/.test(f) && f !== 'node.yaml');
    const r = loadManifests(files.map((f) => ({ file: f, text: readFileSync(path.join(rulesets, dir, f), 'utf8') })));
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });
});

describe('positions from the JSON fast path', () => {
  const json = '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},\n  "spec": {"ports": [{"port": 80}]}}';
  const at = () => {
    const loaded = loadManifests([{ file: 'svc.json', text: json }]);
    return (loaded.objects[0] as ServiceObject).service.ports[0]?.at;
  };

  test('behave as a plain {file, line, col} everywhere a caller may look', async () => {
    const { inspect } = await import('node:util');
    const position = at();
    expect(position).toEqual({ file: 'svc.json', line: 2, col: 22 });
    expect({ ...position }).toEqual({ file: 'svc.json', line: 2, col: 22 });
    expect(JSON.parse(JSON.stringify(position))).toEqual({ file: 'svc.json', line: 2, col: 22 });
    expect(Object.keys(position ?? {})).toEqual(['file', 'line', 'col']);
    expect('line' in (position ?? {})).toBe(true);
    expect(inspect(position)).toBe("{ file: 'svc.json', line: 2, col: 22 }");
  });

  test('are read-only', () => {
    const position = at() as { line: number };
    expect(() => {
      position.line = 9;
    }).toThrow(TypeError);
    expect(position.line).toBe(2);
  });
});
