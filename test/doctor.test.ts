/**
 * kproxy doctor: codes and positions of findings (not their prose), per check on small inline manifests,
 * and end to end through the CLI on rulesets/broken (text, --json, --ping, exit codes).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagnose, type Finding } from '../src/doctor/index.js';
import { resolveNodeConfig } from '../src/model/node-config.js';
import { kproxy } from './cli-helpers.js';
import { repoRoot } from './helpers.js';

const NODE = resolveNodeConfig({ nodeName: 'node-1', nodeIP: '192.168.0.2', nodeIPs: ['192.168.0.2'], clusterCIDR: '10.244.0.0/16' });

/** Findings of one inline manifest (file `in.yaml`), in doctor's order. */
function findingsOf(yaml: string, config = NODE): Finding[] {
  return diagnose({ sources: [{ file: 'in.yaml', text: yaml }], config }).findings;
}

/** [code, line, col] of each finding. */
function codesAt(yaml: string, config = NODE): [string, number, number][] {
  return findingsOf(yaml, config).map((f) => [f.code, f.line, f.col]);
}

/** A ready, running Pod on a node, declaring container ports; one flow-style document of five lines. */
function pod(name: string, labels: string, node: string, ip: string, ports = '[{containerPort: 8080}]', ready = 'True'): string {
  return [
    'apiVersion: v1',
    'kind: Pod',
    `metadata: {name: ${name}, labels: ${labels}}`,
    `spec: {nodeName: ${node}, containers: [{name: c, image: i, ports: ${ports}}]}`,
    `status: {phase: Running, podIP: ${ip}, conditions: [{type: Ready, status: "${ready}"}]}`,
  ].join('\n');
}

/** A Service document: `spec` lines are indented by the caller's text. Lines: 1 apiVersion .. 4 spec, then spec. */
function service(name: string, ...spec: string[]): string {
  return ['apiVersion: v1', 'kind: Service', `metadata: {name: ${name}}`, 'spec:', ...spec.map((l) => `  ${l}`)].join('\n');
}

const docs = (...parts: string[]) => parts.join('\n---\n');

describe('doctor checks (codes and positions)', () => {
  const cases: { name: string; yaml: string; config?: typeof NODE; expected: [string, number, number][] }[] = [
    {
      name: 'a healthy Service has no findings',
      yaml: docs(service('kubia', 'clusterIP: 10.96.0.10', 'ports: [{port: 80, targetPort: 8080}]', 'selector: {app: kubia}'), pod('kubia-1', '{app: kubia}', 'node-1', '10.244.1.5')),
      expected: [],
    },
    {
      // Lines: 3 metadata.name, 7 selector.
      name: 'selector matching nothing: effect at the name, cause at the selector',
      yaml: docs(service('web', 'clusterIP: 10.96.0.20', 'ports: [{port: 80, targetPort: 8080}]', 'selector: {app: web, env: prod}'), pod('web-1', '{app: web, env: production}', 'node-1', '10.244.1.11')),
      expected: [
        ['E_NO_ENDPOINTS', 3, 18],
        ['W_SELECTOR_NO_MATCH', 7, 13],
      ],
    },
    {
      name: 'the input has no Pods: the selector cannot be judged',
      yaml: service('web', 'clusterIP: 10.96.0.20', 'ports: [{port: 80}]', 'selector: {app: web}'),
      expected: [
        ['E_NO_ENDPOINTS', 3, 18],
        ['I_NO_PODS_IN_INPUT', 7, 13],
      ],
    },
    {
      // The Pod document starts on line 9. It declares no ports, so targetPort 8080 is undeclared too.
      name: 'a selected Pod without an IP is not an endpoint',
      yaml: docs(
        service('web', 'clusterIP: 10.96.0.20', 'ports: [{port: 80, targetPort: 8080}]', 'selector: {app: web}'),
        ['apiVersion: v1', 'kind: Pod', 'metadata: {name: web-1, labels: {app: web}}', 'spec: {containers: [{name: c, image: i}]}', 'status: {phase: Pending}'].join('\n'),
      ),
      expected: [
        ['E_NO_ENDPOINTS', 3, 18],
        ['W_TARGET_PORT_UNDECLARED', 6, 34],
        ['W_POD_NOT_RUNNING', 9, 1],
      ],
    },
    {
      // Line 6: the UDP port at 6:11, its targetPort at 6:60; the Pod names only a TCP port dns.
      name: 'a named targetPort the Pods define only for another protocol',
      yaml: docs(
        service('dns', 'clusterIP: 10.96.0.53', 'ports: [{name: dns, port: 53, protocol: UDP, targetPort: dns}, {name: tcp, port: 53, targetPort: dns}]', 'selector: {app: dns}'),
        pod('dns-1', '{app: dns}', 'node-1', '10.244.1.53', '[{name: dns, containerPort: 5353}]'),
      ),
      expected: [
        ['E_NO_ENDPOINTS', 6, 11],
        ['W_NAMED_PORT_UNRESOLVED', 6, 60],
      ],
    },
    {
      name: 'a numeric targetPort declared only for another protocol',
      yaml: docs(
        service('dns', 'clusterIP: 10.96.0.53', 'ports: [{port: 53, protocol: UDP, targetPort: 5353}]', 'selector: {app: dns}'),
        pod('dns-1', '{app: dns}', 'node-1', '10.244.1.53', '[{containerPort: 5353}]'),
      ),
      expected: [['W_TARGET_PORT_UNDECLARED', 6, 49]],
    },
    {
      // The not-ready Pod's Ready condition is on its status line (13), inside the conditions list (col 59).
      name: 'one ready Pod and one not ready',
      yaml: docs(
        service('web', 'clusterIP: 10.96.0.20', 'ports: [{port: 80, targetPort: 8080}]', 'selector: {app: web}'),
        pod('web-1', '{app: web}', 'node-1', '10.244.1.11', '[{containerPort: 8080}]', 'False'),
        pod('web-2', '{app: web}', 'node-1', '10.244.1.12'),
      ),
      expected: [['W_POD_NOT_READY', 13, 59]],
    },
    {
      name: 'no endpoint is ready',
      yaml: docs(
        service('web', 'clusterIP: 10.96.0.20', 'ports: [{port: 80, targetPort: 8080}]', 'selector: {app: web}'),
        pod('web-1', '{app: web}', 'node-1', '10.244.1.11', '[{containerPort: 8080}]', 'False'),
      ),
      expected: [
        ['E_NO_READY_ENDPOINTS', 3, 18],
        ['W_POD_NOT_READY', 13, 59],
      ],
    },
    {
      // A hand-made slice whose only endpoint is terminating but still serving.
      name: 'only terminating endpoints',
      yaml: docs(
        service('web', 'clusterIP: 10.96.0.20', 'ports: [{port: 80}]'),
        [
          'apiVersion: discovery.k8s.io/v1',
          'kind: EndpointSlice',
          'metadata: {name: web-1, labels: {kubernetes.io/service-name: web}}',
          'addressType: IPv4',
          'ports: [{name: "", port: 80}]',
          'endpoints: [{addresses: [10.244.1.11], conditions: {ready: false, serving: true, terminating: true}}]',
        ].join('\n'),
      ),
      expected: [['W_ONLY_TERMINATING_ENDPOINTS', 3, 18]],
    },
    {
      // Mirrored from v1 Endpoints: the not-ready address points at the Endpoints object (line 8).
      name: 'a not-ready address of hand-written Endpoints',
      yaml: docs(
        service('db', 'clusterIP: 10.96.0.50', 'ports: [{port: 5432}]'),
        ['apiVersion: v1', 'kind: Endpoints', 'metadata: {name: db}', 'subsets: [{notReadyAddresses: [{ip: 192.168.1.5}], ports: [{port: 5432}]}]'].join('\n'),
      ),
      expected: [
        ['E_NO_READY_ENDPOINTS', 3, 18],
        ['W_POD_NOT_READY', 8, 1],
      ],
    },
    {
      name: 'internalTrafficPolicy Local without an endpoint on this node',
      yaml: docs(
        service('web', 'clusterIP: 10.96.0.20', 'internalTrafficPolicy: Local', 'ports: [{port: 80, targetPort: 8080}]', 'selector: {app: web}'),
        pod('web-1', '{app: web}', 'node-2', '10.244.2.11'),
      ),
      expected: [['W_ITP_LOCAL_NO_LOCAL_ENDPOINT', 6, 26]],
    },
    {
      name: 'externalTrafficPolicy Local with an endpoint on this node is fine',
      yaml: docs(
        service('web', 'type: NodePort', 'clusterIP: 10.96.0.20', 'externalTrafficPolicy: Local', 'ports: [{port: 80, targetPort: 8080, nodePort: 30080}]', 'selector: {app: web}'),
        pod('web-1', '{app: web}', 'node-1', '10.244.1.11'),
      ),
      expected: [],
    },
    {
      name: 'a load balancer known by host name only',
      yaml: docs(
        [service('web', 'type: LoadBalancer', 'clusterIP: 10.96.0.20', 'ports: [{port: 80, targetPort: 8080, nodePort: 30080}]', 'selector: {app: web}'), 'status: {loadBalancer: {ingress: [{hostname: lb.example.com}]}}'].join('\n'),
        pod('web-1', '{app: web}', 'node-1', '10.244.1.11'),
      ),
      expected: [['I_LB_HOSTNAME', 9, 34]],
    },
    {
      // Line 7: the ranges (a flow list at col 29); the ingress IP gives kube-proxy something to filter.
      name: 'a load balancer that accepts only some source ranges',
      yaml: docs(
        [service('web', 'type: LoadBalancer', 'clusterIP: 10.96.0.20', 'loadBalancerSourceRanges: [203.0.113.0/24]', 'ports: [{port: 80, targetPort: 8080, nodePort: 30080}]', 'selector: {app: web}'), 'status: {loadBalancer: {ingress: [{ip: 198.51.100.7}]}}'].join('\n'),
        pod('web-1', '{app: web}', 'node-1', '10.244.1.11'),
      ),
      expected: [['I_LB_SOURCE_RANGES', 7, 29]],
    },
    {
      // Line 7: the port without nodePort (its flow map at col 11).
      name: 'a NodePort Service port without nodePort',
      yaml: docs(service('web', 'type: NodePort', 'clusterIP: 10.96.0.20', 'ports: [{port: 80, targetPort: 8080}]', 'selector: {app: web}'), pod('web-1', '{app: web}', 'node-1', '10.244.1.11')),
      expected: [['W_NODEPORT_UNSET', 7, 11]],
    },
    {
      name: 'ClientIP affinity is explained only when there is a choice of Pods',
      yaml: docs(
        service('web', 'clusterIP: 10.96.0.20', 'sessionAffinity: ClientIP', 'ports: [{port: 80, targetPort: 8080}]', 'selector: {app: web}'),
        pod('web-1', '{app: web}', 'node-1', '10.244.1.11'),
        pod('web-2', '{app: web}', 'node-2', '10.244.2.11', '[{containerPort: 8080}]', 'False'),
      ),
      expected: [
        ['W_POD_NOT_READY', 20, 59],
      ],
    },
    {
      name: 'ClientIP affinity with two ready Pods',
      yaml: docs(
        service('web', 'clusterIP: 10.96.0.20', 'sessionAffinity: ClientIP', 'ports: [{port: 80, targetPort: 8080}]', 'selector: {app: web}'),
        pod('web-1', '{app: web}', 'node-1', '10.244.1.11'),
        pod('web-2', '{app: web}', 'node-2', '10.244.2.11'),
      ),
      expected: [['I_SESSION_AFFINITY', 6, 20]],
    },
    {
      name: 'two nodePorts in one Service are the model\'s E_DUPLICATE_PORT, not a collision between Services',
      yaml: service('web', 'type: NodePort', 'clusterIP: 10.96.0.20', 'ports: [{name: a, port: 80, nodePort: 30080}, {name: b, port: 81, nodePort: 30080}]'),
      expected: [['E_DUPLICATE_PORT', 7, 79]],
    },
    {
      name: 'ExternalName with a selector',
      yaml: service('maps', 'type: ExternalName', 'externalName: maps.googleapis.com', 'selector: {app: maps}'),
      expected: [
        ['I_EXTERNALNAME', 6, 17],
        ['W_EXTERNALNAME_SELECTOR', 7, 13],
      ],
    },
    {
      // Selector-less, the Endpoints' only port is unnamed: kube-proxy pairs ports by name.
      name: "Endpoints whose port names are not the Service's",
      yaml: docs(
        service('db', 'clusterIP: 10.96.0.50', 'ports: [{name: pg, port: 5432}, {name: metrics, port: 9187}]'),
        ['apiVersion: v1', 'kind: Endpoints', 'metadata: {name: db}', 'subsets: [{addresses: [{ip: 192.168.1.5}], ports: [{port: 5432}]}]'].join('\n'),
      ),
      expected: [['E_NO_ENDPOINTS', 3, 18]],
    },
    {
      // A `kubectl get -o json` List: positions come from the JSON text.
      name: 'a JSON List dump',
      yaml: [
        '{"apiVersion": "v1", "kind": "List", "items": [',
        '  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},',
        '   "spec": {"clusterIP": "10.96.0.20", "ports": [{"port": 80}], "selector": {"app": "web"}}}',
        ']}',
      ].join('\n'),
      expected: [
        ['E_NO_ENDPOINTS', 2, 64],
        ['I_NO_PODS_IN_INPUT', 3, 77],
      ],
    },
    {
      // The second Service starts on line 8.
      name: 'two Services with one clusterIP',
      yaml: docs(service('a', 'clusterIP: 10.96.0.20', 'ports: [{port: 80}]'), service('b', 'clusterIP: 10.96.0.20', 'ports: [{port: 81}]')),
      expected: [
        ['E_NO_ENDPOINTS', 3, 18],
        ['E_CLUSTER_IP_COLLISION', 5, 14],
        ['E_NO_ENDPOINTS', 10, 18],
        ['E_CLUSTER_IP_COLLISION', 12, 14],
      ],
    },
    {
      name: "a clusterIP outside the node settings' service CIDR",
      yaml: docs(service('web', 'clusterIP: 172.16.0.20', 'ports: [{port: 80, targetPort: 8080}]', 'selector: {app: web}'), pod('web-1', '{app: web}', 'node-1', '10.244.1.11')),
      config: { ...NODE, serviceCIDRs: ['10.96.0.0/12'] },
      expected: [['W_CLUSTER_IP_OUTSIDE_RANGE', 5, 14]],
    },
    {
      name: 'a headless Service without endpoints has no DNS answer',
      yaml: docs(service('db', 'clusterIP: None', 'selector: {app: db}'), pod('web-1', '{app: web}', 'node-1', '10.244.1.11')),
      expected: [
        ['E_NO_ENDPOINTS', 3, 18],
        ['W_SELECTOR_NO_MATCH', 6, 13],
      ],
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      expect(codesAt(c.yaml, c.config)).toEqual(c.expected);
    });
  }

  it('near-miss labels name the Pods and the differing key; Pods of another namespace and case-different keys are shown', () => {
    const yaml = docs(
      [service('web', 'clusterIP: 10.96.0.20', 'ports: [{port: 80, targetPort: 8080}]', 'selector: {app: web}')].join('\n'),
      pod('web-1', '{App: web}', 'node-1', '10.244.1.11'),
      pod('web-2', '{app: web}', 'node-1', '10.244.1.12').replace('metadata: {name: web-2,', 'metadata: {name: web-2, namespace: shop,'),
    );
    const selector = findingsOf(yaml).find((f) => f.code === 'W_SELECTOR_NO_MATCH');
    expect(selector?.message).toMatch(/web-1.*App/);
    expect(selector?.message).toMatch(/namespace shop.*web-2/);
  });

  it('every finding of a Service carries its key; findings of no Service come last', () => {
    const yaml = docs(service('db', 'clusterIP: 10.96.0.50', 'ports: [{port: 5432}]'), ['apiVersion: v1', 'kind: Endpoints', 'metadata: {name: dbx}', 'subsets: [{addresses: [{ip: 192.168.1.5}], ports: [{port: 5432}]}]'].join('\n'));
    const findings = findingsOf(yaml);
    expect(findings.map((f) => [f.code, f.service])).toEqual([
      ['E_NO_ENDPOINTS', 'default/db'],
      ['W_ORPHAN_ENDPOINTS', null],
    ]);
    // The stray Endpoints are offered as the likely intended ones.
    expect(findings[0]?.message).toContain('dbx');
  });
});

const broken = path.join(repoRoot, 'rulesets', 'broken');
const servicesYaml = path.join(broken, 'services.yaml');
const podsYaml = path.join(broken, 'pods.yaml');

/** Every finding on rulesets/broken: [code, service, file, line, col]. The positions are the fields at fault. */
const BROKEN: [string, string, string, number, number][] = [
  ['E_NO_ENDPOINTS', 'default/web', servicesYaml, 22, 9], // metadata.name
  ['W_SELECTOR_NO_MATCH', 'default/web', servicesYaml, 30, 5], // spec.selector
  ['W_POD_NOT_READY', 'default/web-named', podsYaml, 88, 7], // web-3's Ready condition
  ['E_NO_ENDPOINTS', 'default/web-named', servicesYaml, 42, 5], // the http port
  ['W_NAMED_PORT_UNRESOLVED', 'default/web-named', servicesYaml, 44, 17], // its targetPort
  ['W_POD_NOT_READY', 'default/web-nodeport', podsYaml, 88, 7],
  ['W_TARGET_PORT_UNDECLARED', 'default/web-nodeport', servicesYaml, 62, 17],
  ['W_NODEPORT_RANGE', 'default/web-nodeport', servicesYaml, 63, 15],
  ['W_POD_NOT_READY', 'default/web-lb', podsYaml, 88, 7],
  ['W_LB_PENDING', 'default/web-lb', servicesYaml, 75, 9], // spec.type
  ['E_NODEPORT_COLLISION', 'default/web-lb', servicesYaml, 80, 15],
  ['W_ETP_LOCAL_NO_LOCAL_ENDPOINT', 'default/api', servicesYaml, 93, 26],
  ['E_NODEPORT_COLLISION', 'default/api', servicesYaml, 97, 15],
  ['W_POD_NOT_READY', 'default/worker', podsYaml, 125, 7],
  ['E_NO_READY_ENDPOINTS', 'default/worker', servicesYaml, 105, 9],
  ['E_NO_ENDPOINTS', 'default/external-db', servicesYaml, 118, 9],
  ['I_EXTERNALNAME', 'default/google-map', servicesYaml, 133, 17],
  ['W_EXTERNALNAME_TARGET_PORT', 'default/google-map', servicesYaml, 136, 17],
  ['I_EXTERNALNAME', 'default/legacy-db', servicesYaml, 146, 17],
  ['W_EXTERNALNAME_IP', 'default/legacy-db', servicesYaml, 146, 17],
  ['W_POD_NOT_READY', 'default/web-headless', podsYaml, 88, 7],
  ['I_HEADLESS', 'default/web-headless', servicesYaml, 155, 14],
];

describe('kproxy doctor rulesets/broken/', () => {
  it('--json: every finding with code, service and position; exit 1', async () => {
    const run = await kproxy(['doctor', broken, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    const findings = JSON.parse(run.stdout) as Finding[];
    expect(findings.map((f) => [f.code, f.service, f.file, f.line, f.col])).toEqual(BROKEN);
    for (const f of findings) {
      expect(Object.keys(f)).toEqual(['code', 'severity', 'service', 'file', 'line', 'col', 'message', 'hint']);
      expect(f.severity).toBe(f.code.startsWith('E_') ? 'error' : f.code.startsWith('W_') ? 'warning' : 'info');
    }
  });

  it('text: grouped per Service, every finding as file:line:col: severity[CODE], a summary line', async () => {
    const run = await kproxy(['doctor', broken]);
    expect(run.code).toBe(1);
    const lines = run.stdout.split('\n');
    const headers = lines.filter((l) => l.startsWith('Service '));
    expect(headers).toEqual([
      'Service default/kubia: ok',
      'Service default/web: broken',
      'Service default/web-named: broken',
      'Service default/web-nodeport: works, with warnings',
      'Service default/web-lb: broken',
      'Service default/api: broken',
      'Service default/worker: broken',
      'Service default/external-db: broken',
      'Service default/google-map: works, with warnings',
      'Service default/legacy-db: works, with warnings',
      'Service default/web-headless: works, with warnings',
    ]);
    const located = lines.filter((l) => /^ {2}\S+:\d+:\d+: (error|warning|note)\[/.test(l)).map((l) => {
      const m = /^ {2}(\S+):(\d+):(\d+): (?:error|warning|note)\[(\w+)\]/.exec(l) as RegExpExecArray;
      return [m[4], m[1], Number(m[2]), Number(m[3])];
    });
    expect(located).toEqual(BROKEN.map(([code, , file, line, col]) => [code, file, line, col]));
    expect(lines.at(-2)).toBe('11 Services: 6 broken, 4 with warnings, 1 ok (6 errors, 13 warnings, 3 notes)');
  });

  it('text output as a whole (golden: test/fixtures/doctor/broken.txt; update deliberately with -u)', async () => {
    // Relative paths, as a user types them (and as wide as theirs when lines are wrapped).
    const run = await kproxy(['doctor', path.relative(process.cwd(), broken), '--ping', 'kubia']);
    await expect(run.stdout).toMatchFileSnapshot(path.join(repoRoot, 'test', 'fixtures', 'doctor', 'broken.txt'));
  });

  it('--ping SERVICE: the echo request traced in both modes, reported at the clusterIP', async () => {
    const run = await kproxy(['doctor', broken, '--json', '--ping', 'kubia']);
    const ping = (JSON.parse(run.stdout) as Finding[]).filter((f) => f.code.includes('PING'));
    expect(ping.map((f) => [f.code, f.service, f.file, f.line, f.col])).toEqual([['W_PING_SERVICE_IP', 'default/kubia', servicesYaml, 11, 14]]);
    // iptables mode lets it leave the node untranslated; nftables mode rejects it in cluster-ips-check.
    expect(ping[0]?.message).toMatch(/iptables mode it is not translated and leaves the node on eth0/);
    expect(ping[0]?.message).toMatch(/nftables mode it is rejected by ip kube-proxy cluster-ips-check/);
    // A warning: the Service itself is not broken by it.
    expect((await kproxy(['doctor', broken, '--ping', 'kubia'])).stdout).toContain('Service default/kubia: works, with warnings');
  });

  it('--ping across IP families is a usage error, not a trace', async () => {
    for (const args of [['--ping', '::1'], ['--ping', '10.96.0.20', '--ping-from', 'fd00::1']]) {
      const run = await kproxy(['doctor', broken, ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^kproxy: --ping: source \S+ and destination \S+ are of different IP families\n$/);
    }
  });

  it('--ping CLUSTER-IP: found by address, reported at that Service', async () => {
    const run = await kproxy(['doctor', broken, '--json', '--ping', '10.96.0.20']);
    const ping = (JSON.parse(run.stdout) as Finding[]).filter((f) => f.code.includes('PING'));
    expect(ping.map((f) => [f.code, f.service, f.line, f.col])).toEqual([['W_PING_SERVICE_IP', 'default/web', 25, 14]]);
  });

  it('--ping a Pod IP, a headless and an ExternalName Service: notes, kube-proxy not involved', async () => {
    const run = await kproxy(['doctor', broken, '--json', '--ping', '10.244.2.12', '--ping', 'web-headless', '--ping', 'google-map.default']);
    const pings = (JSON.parse(run.stdout) as Finding[]).filter((f) => f.code === 'I_PING');
    expect(pings.map((f) => [f.service, f.line, f.col])).toEqual([
      ['default/google-map', 133, 17],
      ['default/web-headless', 155, 14],
      [null, 0, 0],
    ]);
    expect(pings[2]?.file).toBe('<command line>');
    expect(pings[2]?.message).toContain('Pod default/web-2');
  });
});

describe('kproxy doctor: refused objects, exit codes, usage', () => {
  const refused = path.join(repoRoot, 'test', 'fixtures', 'doctor', 'refused.yaml');

  it('explains what the API server would refuse, under the Service, and checks the rest', async () => {
    const run = await kproxy(['doctor', refused, '--node-name', 'node-1', '--json']);
    expect(run.code).toBe(1);
    const findings = JSON.parse(run.stdout) as Finding[];
    expect(findings.map((f) => [f.code, f.service, f.line, f.col, f.hint !== null])).toEqual([
      ['E_FIELD', 'default/sticky', 11, 23, true], // timeoutSeconds beyond 86400
      ['E_FIELD', 'default/maps', 24, 14, true], // clusterIP on an ExternalName Service
      ['E_NO_ENDPOINTS', 'default/google-map', 30, 9, true], // its Endpoints are named google-maps
      ['W_SELECTOR_AND_ENDPOINTS', 'default/kubia', 62, 9, true],
      ['W_ORPHAN_ENDPOINTS', null, 39, 9, true],
    ]);
  });

  it('text output as a whole (golden: test/fixtures/doctor/refused.txt)', async () => {
    const run = await kproxy(['doctor', path.relative(process.cwd(), refused), '--node-name', 'node-1']);
    await expect(run.stdout).toMatchFileSnapshot(path.join(repoRoot, 'test', 'fixtures', 'doctor', 'refused.txt'));
  });

  it('--ping when the input has errors: not traced, said so', async () => {
    const run = await kproxy(['doctor', refused, '--node-name', 'node-1', '--json', '--ping', 'kubia']);
    expect((JSON.parse(run.stdout) as Finding[]).filter((f) => f.code.includes('PING')).map((f) => f.code)).toEqual(['I_PING_UNAVAILABLE']);
  });

  it('exit 0 with warnings only; manifests on standard input', async () => {
    const yaml = docs(
      service('web', 'type: LoadBalancer', 'clusterIP: 10.96.0.20', 'ports: [{port: 80, targetPort: 8080, nodePort: 30080}]', 'selector: {app: web}'),
      pod('web-1', '{app: web}', 'node-1', '10.244.1.11'),
    );
    const run = await kproxy(['doctor', '-', '--node-name', 'node-1'], yaml);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/<stdin>:5:9: warning\[W_LB_PENDING\]/);
    expect(run.stdout).toMatch(/1 Service: 0 broken, 1 with warnings, 0 ok \(0 errors, 1 warning, 0 notes\)\n$/);
  });

  it('exit 0 and an ok verdict for a healthy example (with a note on its session affinity)', async () => {
    const run = await kproxy(['doctor', path.join(repoRoot, 'rulesets', 'kubia'), '--json']);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as Finding[]).map((f) => [f.code, f.severity, f.line, f.col])).toEqual([['I_SESSION_AFFINITY', 'info', 11, 20]]);
    const text = await kproxy(['doctor', path.join(repoRoot, 'rulesets', 'kubia')]);
    expect(text.stdout).toMatch(/^Service default\/kubia: ok\n/);
    expect(text.stdout).toMatch(/\n1 Service: 0 broken, 0 with warnings, 1 ok \(0 errors, 0 warnings, 1 note\)\n$/);
  });

  it.each([
    [['doctor'], /no input/],
    [['doctor', broken, '--ping', 'nosuch'], /--ping: no Service default\/nosuch/],
    [['doctor', broken, '--ping', 'kubia', '--ping-from', 'x'], /--ping-from "x" is not an IP address/],
    [['doctor', path.join(broken, 'missing.yaml')], /no such file/],
  ])('usage error %j: exit 2', async (args, message) => {
    const run = await kproxy(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
