import { describe, expect, test } from 'vitest';
import { loadCluster } from '../src/index.js';
import { loadManifests } from '../src/model/load.js';
import type { IngressObject } from '../src/model/objects.js';

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
