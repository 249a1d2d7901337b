import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Ingress } from '../src/cluster/types.js';
import { loadCluster } from '../src/index.js';
import { buildNginxConfig, describeLocation, matchHost, matchPath, normalizePath, type NginxConfig } from '../src/ingress/route.js';
import type { UrlTrace } from '../src/ingress/trace.js';
import { loadManifests } from '../src/model/load.js';
import type { IngressObject } from '../src/model/objects.js';
import { kproxy } from './cli-helpers.js';
import { repoRoot } from './helpers.js';

/** Diagnostics as `CODE@line:col` (never prose). */
function codes(text: string): string[] {
  return loadManifests([{ file: 'in.yaml', text }]).diagnostics.map((d) => `${d.code}@${d.line}:${d.col}`);
}

function onlyIngress(text: string): IngressObject {
  const loaded = loadManifests([{ file: 'in.yaml', text }]);
  expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const found = loaded.objects.find((o): o is IngressObject => o.kind === 'Ingress');
  if (!found) throw new Error('no Ingress loaded');
  return found;
}

/** The notes' Ingress, as written there (extensions/v1beta1). */
const NOTES_INGRESS = `apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: kubia
spec:
  rules:
  - host: kubia.example.com
    http:
      paths:
      - path: /
        backend:
          serviceName: kubia-nodeport
          servicePort: 80
`;

const v1 = (spec: string, name = 'web') => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
spec:
${spec}`;

describe('Ingress model', () => {
  test('networking.k8s.io/v1: class, default backend, rules, paths, port by number and by name, tls, status', () => {
    const ing = onlyIngress(`${v1(`  ingressClassName: nginx
  defaultBackend:
    service: {name: fallback, port: {name: http}}
  tls:
  - hosts: [kubia.example.com]
    secretName: kubia-tls
  rules:
  - host: "*.example.com"
    http:
      paths:
      - path: /foo
        pathType: Exact
        backend:
          service: {name: foo, port: {number: 8080}}
  - http:
      paths:
      - pathType: ImplementationSpecific
        backend:
          resource: {apiGroup: k8s.example.com, kind: StorageBucket, name: assets}
`)}status:
  loadBalancer:
    ingress:
    - ip: 203.0.113.20
`).ingress;
    expect(ing.ingressClassName).toBe('nginx');
    expect(ing.defaultBackend).toMatchObject({ kind: 'service', service: 'fallback', port: 'http' });
    expect(ing.tls).toEqual([{ hosts: ['kubia.example.com'], secretName: 'kubia-tls' }]);
    expect(ing.loadBalancerIngress).toEqual([{ ip: '203.0.113.20' }]);
    expect(ing.rules.map((r) => r.host)).toEqual(['*.example.com', '']);
    expect(ing.rules[0]?.paths[0]).toMatchObject({ path: '/foo', pathType: 'Exact', backend: { kind: 'service', service: 'foo', port: 8080 } });
    expect(ing.rules[1]?.paths[0]).toMatchObject({ path: '', pathType: 'ImplementationSpecific', backend: { kind: 'resource', resource: 'k8s.example.com/StorageBucket/assets' } });
  });

  test("the notes' extensions/v1beta1 form is read as v1, with a deprecation warning at apiVersion", () => {
    expect(codes(NOTES_INGRESS)).toEqual(['W_DEPRECATED_API@1:13']);
    const ing = onlyIngress(NOTES_INGRESS).ingress;
    expect(ing.apiVersion).toBe('extensions/v1beta1');
    expect(ing.rules).toHaveLength(1);
    expect(ing.rules[0]?.host).toBe('kubia.example.com');
    // A path without pathType is ImplementationSpecific, as the API server defaulted it in v1beta1.
    expect(ing.rules[0]?.paths[0]).toMatchObject({ path: '/', pathType: 'ImplementationSpecific', backend: { service: 'kubia-nodeport', port: 80 } });
  });

  test('networking.k8s.io/v1beta1: spec.backend is the default backend, servicePort may be a name', () => {
    const text = `apiVersion: networking.k8s.io/v1beta1
kind: Ingress
metadata:
  name: old
spec:
  backend:
    serviceName: web
    servicePort: http
`;
    expect(codes(text)).toEqual(['W_DEPRECATED_API@1:13']);
    expect(onlyIngress(text).ingress.defaultBackend).toMatchObject({ kind: 'service', service: 'web', port: 'http' });
  });

  test.each([
    ['an unknown pathType', v1(`  rules:\n  - http:\n      paths:\n      - path: /\n        pathType: Regex\n        backend: {service: {name: web, port: {number: 80}}}\n`), ['E_FIELD@10:19']],
    ['v1 without pathType', v1(`  rules:\n  - http:\n      paths:\n      - path: /\n        backend: {service: {name: web, port: {number: 80}}}\n`), ['E_FIELD@9:9']],
    ['a relative path', v1(`  rules:\n  - http:\n      paths:\n      - path: foo\n        pathType: Prefix\n        backend: {service: {name: web, port: {number: 80}}}\n`), ['E_INGRESS_PATH@9:15']],
    ['// in a Prefix path', v1(`  rules:\n  - http:\n      paths:\n      - path: /a//b\n        pathType: Prefix\n        backend: {service: {name: web, port: {number: 80}}}\n`), ['E_INGRESS_PATH@9:15']],
    ['a port with number and name', v1(`  defaultBackend: {service: {name: web, port: {number: 80, name: http}}}\n`), ['E_INGRESS_BACKEND@6:47']],
    ['service and resource', v1(`  defaultBackend:\n    service: {name: web, port: {number: 80}}\n    resource: {kind: Bucket, name: b}\n`), ['E_INGRESS_BACKEND@7:5']],
    ['an IP as host', v1(`  rules:\n  - host: 10.0.0.1\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n`), ['E_NAME@7:11']],
    ['two wildcard labels', v1(`  rules:\n  - host: "*.*.example.com"\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n`), ['E_NAME@7:11']],
    ['neither rules nor default backend', v1(`  ingressClassName: nginx\n`), ['E_FIELD@6:3']],
    ['a removed apiVersion that never existed', NOTES_INGRESS.replace('extensions/v1beta1', 'networking.k8s.io/v2'), ['E_API_VERSION@1:13']],
  ])('%s is refused with its code and position', (_, text, expected) => {
    expect(codes(text)).toEqual(expected);
  });

  test('backends naming a missing Service or a port the Service lacks are warned about at the backend', () => {
    const service = `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: 10.96.0.30
  ports: [{name: http, port: 80}]
---
`;
    const ingress = v1(`  rules:
  - http:
      paths:
      - {path: /a, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /b, pathType: Prefix, backend: {service: {name: web, port: {number: 8080}}}}
      - {path: /c, pathType: Prefix, backend: {service: {name: web, port: {name: metrics}}}}
      - {path: /d, pathType: Prefix, backend: {service: {name: gone, port: {number: 80}}}}
`);
    const result = loadCluster([{ file: 'in.yaml', text: service + ingress }]);
    expect(result.diagnostics.map((d) => `${d.code}@${d.line}:${d.col}`)).toEqual([
      'W_INGRESS_NO_PORT@17:47',
      'W_INGRESS_NO_PORT@18:47',
      'W_INGRESS_NO_SERVICE@19:47',
    ]);
    expect(result.cluster?.ingresses?.map((i) => i.name)).toEqual(['web']);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Routing as ingress-nginx does it

function ingressesOf(text: string): Ingress[] {
  const loaded = loadManifests([{ file: 'in.yaml', text }]);
  expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return loaded.objects.flatMap((o) => (o.kind === 'Ingress' ? [o.ingress] : []));
}

const httpPath = (p: string, type: string, service: string) =>
  `      - {path: ${p}, pathType: ${type}, backend: {service: {name: ${service}, port: {number: 80}}}}\n`;
const ingress = (name: string, spec: string) => `---\n${v1(spec, name)}`;

const ROUTING = [
  ingress(
    'a',
    `  rules:
  - host: foo.example.com
    http:
      paths:
${httpPath('/exact', 'Exact', 'exact')}${httpPath('/app', 'Prefix', 'app')}${httpPath('/app/admin/', 'Prefix', 'admin')}${httpPath('/impl', 'ImplementationSpecific', 'impl')}${httpPath('/', 'Prefix', 'root')}  - host: "*.example.com"
    http:
      paths:
${httpPath('/', 'Prefix', 'wild')}  - http:
      paths:
${httpPath('/any', 'Prefix', 'nohost')}`,
  ),
  ingress('b', `  defaultBackend: {service: {name: fallback, port: {number: 80}}}\n  rules:\n  - host: bar.example.com\n    http:\n      paths:\n${httpPath('/only', 'Exact', 'only')}`),
  ingress('c', `  ingressClassName: other\n  rules:\n  - host: foo.example.com\n    http:\n      paths:\n${httpPath('/c', 'Prefix', 'c')}`),
  ingress('d', `  rules:\n  - host: foo.example.com\n    http:\n      paths:\n${httpPath('/app', 'Prefix', 'dup')}`),
  ingress('e', `  rules:\n  - host: foo.example.com\n    http:\n      paths:\n${httpPath('/app', 'Exact', 'exactapp')}`),
].join('');

/** The Service a request ends at (`404` for the controller's default backend) and how the host matched. */
function routeTo(config: NginxConfig, host: string, rawPath: string): string {
  const hostMatch = matchHost(config, host);
  const target = matchPath(hostMatch.server, normalizePath(rawPath)).location.target;
  const end = target.kind === 'default-backend' ? '404' : target.backend.kind === 'service' ? target.backend.service : 'resource';
  return `${hostMatch.kind}:${end}`;
}

describe('ingress-nginx routing', () => {
  const config = buildNginxConfig(ingressesOf(ROUTING));

  test.each([
    ['foo.example.com', '/exact', 'exact:exact'],
    ['foo.example.com', '/exact/', 'exact:root'], // Exact does not match with a trailing slash
    ['foo.example.com', '/app', 'exact:exactapp'], // an Exact path beats the "= /app" of Prefix /app, although defined later
    ['foo.example.com', '/app/', 'exact:app'],
    ['foo.example.com', '/app/x', 'exact:app'],
    ['foo.example.com', '/apple', 'exact:root'], // Prefix is element-wise: /app does not match /apple
    ['foo.example.com', '/app/admin', 'exact:app'], // ingress-nginx: Prefix /app/admin/ writes `= /app/admin/`, not `= /app/admin`
    ['foo.example.com', '/app/admin/', 'exact:admin'],
    ['foo.example.com', '/app/admin/users', 'exact:admin'], // the longest prefix wins
    ['foo.example.com', '/implementation', 'exact:impl'], // ImplementationSpecific is nginx's string prefix
    ['foo.example.com', '/c', 'exact:root'], // Ingress c has class "other": not served
    ['FOO.Example.COM', '/exact', 'exact:exact'], // host names are case-insensitive
    ['foo.example.com', '/app/%2e%2e/exact', 'exact:exact'], // decoded and resolved before matching
    ['foo.example.com', '//exact', 'exact:exact'], // repeated slashes merged
    ['a.example.com', '/x', 'wildcard:wild'],
    ['a.b.example.com', '/x', 'wildcard:wild'], // nginx's wildcard matches deeper names too
    ['example.com', '/any', 'catch-all:nohost'], // rules without a host live in the catch-all server
    ['example.com', '/nothing', 'catch-all:404'],
    ['bar.example.com', '/only', 'exact:only'],
    ['bar.example.com', '/other', 'exact:fallback'], // the server's root is Ingress b's defaultBackend
  ])('%s%s → %s', (host, p, expected) => {
    expect(routeTo(config, host, p)).toBe(expected);
  });

  test('the other class is reported as ignored, the later duplicate path as shadowed', () => {
    expect(config.ignored.map((i) => i.ingress.name)).toEqual(['c']);
    expect(config.shadowed).toHaveLength(1);
    expect(config.shadowed[0]).toMatch(/Prefix \/app of Ingress default\/d is ignored, Prefix \/app of Ingress default\/a/);
  });

  test('a wildcard that stands for more than one label says so', () => {
    expect(matchHost(config, 'a.b.example.com').why).toMatch(/2 labels stand for the \*/);
    expect(matchHost(config, 'a.example.com').why).not.toMatch(/labels stand for/);
  });

  test('every location is reported as nginx tries it: exact ones, then prefixes longest first', () => {
    const server = matchHost(config, 'foo.example.com').server;
    const checks = matchPath(server, '/app/x').checks.map((c) => `${c.matched ? '+' : '-'}${describeLocation(c.location)}`);
    expect(checks).toEqual(['-= /exact', '-= /app', '-= /app/admin/', '-/app/admin/', '+/app/', '-/impl', '+/']);
  });

  test('an Ingress with only a default backend takes the catch-all server', () => {
    const catchAll = buildNginxConfig(ingressesOf(ingress('all', `  defaultBackend: {service: {name: everything, port: {number: 80}}}\n`)));
    expect(routeTo(catchAll, 'any.host', '/x')).toBe('catch-all:everything');
    expect(routeTo(buildNginxConfig([]), 'any.host', '/x')).toBe('catch-all:404');
  });

  test.each([
    ['/a/./b', '/a/b'],
    ['/a/b/..', '/a/'],
    ['/a%20b', '/a b'],
    ['', '/'],
    ['/%zz', '/%zz'],
  ])('normalizePath(%j) = %j', (raw, expected) => {
    expect(normalizePath(raw)).toBe(expected);
  });
});

// ---------------------------------------------------------------------------------------------------------
// kproxy trace --url, through the CLI

const EXAMPLE = path.join(repoRoot, 'rulesets', 'kubia-ingress');
/** Manifests on stdin have no folder, so the example's node settings are named. */
const NODE_FLAGS = ['--node-config', path.join(EXAMPLE, 'node.yaml')];

/** The notes' setup without a controller: the v1beta1 Ingress, kubia-nodeport and its Pods. */
function withoutController(ingressStatus = ''): string {
  const example = readFileSync(path.join(EXAMPLE, 'kubia-ingress.yaml'), 'utf8');
  const backend = example.slice(example.indexOf('# The backend:'));
  return `${NOTES_INGRESS}${ingressStatus}---\n${backend}`;
}

async function traceJson(args: string[], stdin = ''): Promise<UrlTrace> {
  const run = await kproxy(['trace', ...args, '--json'], stdin);
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as UrlTrace;
}

const outcomeSummary = (trace: UrlTrace) =>
  trace.outcomes.map((o) => `${Math.round(o.probability * 1000) / 10}% ${o.result === 'endpoint' ? o.endpoint : o.result === 'status' ? o.status : o.result}`);

describe('kproxy trace --url', () => {
  test('text: the four hops and the outcomes, from outside', async () => {
    const run = await kproxy(['trace', EXAMPLE, '--url', 'http://kubia.example.com/foo', '--from', 'outside']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(/^Request: GET http:\/\/kubia\.example\.com\/foo from outside the cluster$/m);
    expect(out).toMatch(/Ingress controller: ingress-nginx behind Service ingress-nginx\/ingress-nginx-controller/);
    expect(out).toMatch(/203\.0\.113\.20, the status\.loadBalancer\.ingress of Ingress default\/kubia/);
    expect(out).toMatch(/⇒ tcp 203\.0\.113\.20:80$/m);
    expect(out).toMatch(/"ingress-nginx\/ingress-nginx-controller:http loadbalancer IP".*-j KUBE-EXT-/);
    expect(out).toMatch(/DNAT: destination 203\.0\.113\.20:80 → 10\.244\.1\.10:80/);
    expect(out).toMatch(/⇒ 100% of the connections reach a controller Pod \(ingress-nginx\/ingress-nginx-controller-5c8d66c76d-x7k2p\)/);
    expect(out).toMatch(/✓ \/ +Prefix \/ of Ingress default\/kubia: \/foo starts with \/, the longest matching prefix/);
    expect(out).toMatch(/not to the ClusterIP 10\.96\.0\.13/);
    const outcomes = out.slice(out.indexOf('Outcomes:')).split('\n').slice(1).filter(Boolean).map((l) => l.trim());
    expect(outcomes).toEqual([
      '33.3%  answered by 10.244.1.5:8080 (pod default/kubia-7d5b8c9f4-a) (via ingress-nginx/ingress-nginx-controller-5c8d66c76d-x7k2p)',
      '33.3%  answered by 10.244.1.6:8080 (pod default/kubia-7d5b8c9f4-b) (via ingress-nginx/ingress-nginx-controller-5c8d66c76d-x7k2p)',
      '33.3%  answered by 10.244.2.7:8080 (pod default/kubia-7d5b8c9f4-c) (via ingress-nginx/ingress-nginx-controller-5c8d66c76d-x7k2p)',
    ]);
  });

  test('--json: entry, kube-proxy trace, routing, backend and outcomes', async () => {
    const trace = await traceJson([EXAMPLE, '--url', 'http://kubia.example.com/foo']);
    expect(trace.from).toBe('external');
    expect(trace.entry).toMatchObject({ address: '203.0.113.20', port: 80, via: 'ingress-status', servicePort: 80 });
    expect(trace.kubeProxy?.mode).toBe('iptables');
    expect(trace.kubeProxy?.outcomes.map((o) => [o.probability, o.dnat, o.result])).toEqual([[1, '10.244.1.10:80', 'delivered']]);
    expect(trace.reached).toEqual({ probability: 1, pods: ['ingress-nginx/ingress-nginx-controller-5c8d66c76d-x7k2p'], sources: ['10.244.1.1'] });
    expect(trace.routing).toMatchObject({ server: 'kubia.example.com', hostMatch: 'exact', path: '/foo', location: { match: 'prefix', path: '/' }, redirect: null });
    expect(trace.backend).toMatchObject({ kind: 'endpoints', service: 'default/kubia-nodeport', port: 80, targetPort: 8080 });
    expect(outcomeSummary(trace)).toEqual(['33.3% 10.244.1.5:8080', '33.3% 10.244.1.6:8080', '33.3% 10.244.2.7:8080']);
    expect(trace.outcomes.reduce((sum, o) => sum + o.probability, 0)).toBeCloseTo(1, 12);
  });

  test('a NodePort in the URL goes to the node IP; nftables mode reaches the same controller Pod', async () => {
    const trace = await traceJson([EXAMPLE, '--url', 'http://kubia.example.com:30080/', '--mode', 'nftables']);
    expect(trace.entry).toMatchObject({ address: '192.168.0.2', port: 30080, via: 'node-port', servicePort: 80 });
    expect(trace.kubeProxy?.mode).toBe('nftables');
    expect(trace.kubeProxy?.outcomes.map((o) => o.dnat)).toEqual(['10.244.1.10:80']);
    expect(outcomeSummary(trace)).toHaveLength(3);
  });

  test('--from pod starts at a pod address on the node; an unknown host gets the default backend 404', async () => {
    const trace = await traceJson([EXAMPLE, '--url', 'http://other.example.com/x', '--from', 'pod']);
    expect(trace.kubeProxy?.packet.origin).toBe('pod');
    expect(trace.kubeProxy?.packet.source).toMatch(/^10\.244\.1\./);
    expect(trace.entry).toMatchObject({ address: '203.0.113.20', via: 'load-balancer' });
    expect(trace.routing).toMatchObject({ server: '_', hostMatch: 'catch-all' });
    expect(outcomeSummary(trace)).toEqual(['100% 404']);
  });

  test('a port the controller does not serve: kube-proxy has no rule for it, the request never reaches the controller', async () => {
    const trace = await traceJson([EXAMPLE, '--url', 'http://kubia.example.com:8080/']);
    expect(trace.entry).toMatchObject({ address: '203.0.113.20', port: 8080, servicePort: null });
    expect(trace.reached?.probability).toBe(0);
    expect(trace.outcomes).toMatchObject([{ probability: 1, result: 'not-reached', why: expect.stringMatching(/no kube-proxy rule for 203\.0\.113\.20:8080/) }]);
  });

  test('https: port 443 and the default certificate remark; http with spec.tls is redirected', async () => {
    const https = await traceJson([EXAMPLE, '--url', 'https://kubia.example.com/']);
    expect(https.entry).toMatchObject({ port: 443, servicePort: 443 });
    expect(https.routing.tls).toMatch(/default certificate/);
    const example = readFileSync(path.join(EXAMPLE, 'kubia-ingress.yaml'), 'utf8');
    const withTls = example.replace('  ingressClassName: nginx\n', '  ingressClassName: nginx\n  tls:\n  - hosts: [kubia.example.com]\n    secretName: kubia-tls\n');
    const redirected = await traceJson(['-', '--url', 'http://kubia.example.com/foo', ...NODE_FLAGS], withTls);
    expect(redirected.outcomes).toMatchObject([{ probability: 1, result: 'redirect', location: 'https://kubia.example.com/foo' }]);
  });

  test("no controller, the notes' v1beta1 Ingress without status: it does nothing, and says what ingress-nginx would do", async () => {
    const run = await kproxy(['trace', '-', '--url', 'http://kubia.example.com/', ...NODE_FLAGS], withoutController());
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/<stdin>:1:13: warning\[W_DEPRECATED_API\]/);
    expect(run.stdout).toMatch(/Ingress controller: none in the manifests/);
    expect(run.stdout).toMatch(/nothing reads the Ingress, so it does nothing/);
    expect(run.stdout).toMatch(/ImplementationSpecific \/ of Ingress default\/kubia/);
    const trace = await traceJson(['-', '--url', 'http://kubia.example.com/', ...NODE_FLAGS], withoutController());
    expect(trace.controller).toBeNull();
    expect(trace.kubeProxy).toBeNull();
    expect(trace.outcomes).toMatchObject([{ probability: 1, result: 'no-controller' }]);
  });

  test('no controller, but an address in the Ingress status: a controller is assumed there', async () => {
    const status = 'status:\n  loadBalancer:\n    ingress:\n    - ip: 198.51.100.4\n';
    const trace = await traceJson(['-', '--url', 'http://kubia.example.com/', ...NODE_FLAGS], withoutController(status));
    expect(trace.assumption).toMatch(/assuming an ingress-nginx controller outside them answers on 198\.51\.100\.4:80/);
    expect(trace.entry).toMatchObject({ address: '198.51.100.4', via: 'ingress-status' });
    expect(outcomeSummary(trace)).toEqual(['33.3% 10.244.1.5:8080', '33.3% 10.244.1.6:8080', '33.3% 10.244.2.7:8080']);
  });

  test('a controller reachable by no address from outside is an input error, with the reason', async () => {
    const example = readFileSync(path.join(EXAMPLE, 'kubia-ingress.yaml'), 'utf8');
    const clusterIPOnly = example
      .replaceAll('status:\n  loadBalancer:\n    ingress:\n    - ip: 203.0.113.20\n', '')
      .replace('type: LoadBalancer', 'type: ClusterIP')
      .replace(/ {4}nodePort: 30(080|443)\n/g, '');
    const run = await kproxy(['trace', '-', '--url', 'http://kubia.example.com/', ...NODE_FLAGS], clusterIPOnly);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^kproxy: no address for kubia\.example\.com: the controller Service ingress-nginx\/ingress-nginx-controller has no load-balancer IP, no externalIP and no http NodePort$/m);
  });

  test.each([
    [['--url', 'ftp://kubia.example.com/']],
    [['--url', 'not a url']],
    [['--url', 'http://kubia.example.com/', '--dst', '10.96.0.13']],
    [['--url', 'http://kubia.example.com/', '--from', 'mars']],
    [['--url', 'http://kubia.example.com/', '--mode', 'both']],
  ])('usage errors exit 2: %j', async (args) => {
    const run = await kproxy(['trace', EXAMPLE, ...args]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
