import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root (test/ lives directly under it). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** `../shared/conformance/<relative>`: CI clones the repo with shared/ beside it. */
export function conformancePath(relative = ''): string {
  return path.join(repoRoot, '..', 'shared', 'conformance', relative);
}

/**
 * A one-port Service (`http`, 80 → 8080) in `default` and its EndpointSlice, as YAML documents; `extraSpec`
 * is appended inside the spec's braces (`, type: NodePort` gives it nodePort 30080).
 */
export function serviceWithSlice(name: string, clusterIP: string, endpoints: readonly string[], extraSpec = ''): string {
  const nodePort = extraSpec.includes('NodePort') ? ', nodePort: 30080' : '';
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec: {clusterIP: ${clusterIP}, ports: [{name: http, port: 80, targetPort: 8080${nodePort}}]${extraSpec}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}-x, namespace: default, labels: {kubernetes.io/service-name: ${name}}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
${endpoints.map((ip) => `- addresses: [${ip}]`).join('\n')}
`;
}

/** A List as `kubectl get svc,endpointslices -o yaml` prints it: managedFields, last-applied annotation, status. */
export const kubectlListYaml = `apiVersion: v1
items:
- apiVersion: v1
  kind: Service
  metadata:
    annotations:
      kubectl.kubernetes.io/last-applied-configuration: |
        {"apiVersion":"v1","kind":"Service"}
    creationTimestamp: "2024-05-01T10:00:00Z"
    name: kubia
    namespace: default
    resourceVersion: "12345"
    uid: 6b0f3c1e-0000-4000-8000-000000000001
    managedFields:
    - apiVersion: v1
      fieldsType: FieldsV1
      fieldsV1:
        f:spec:
          f:ports: {}
      manager: kubectl-client-side-apply
      operation: Update
  spec:
    clusterIP: 10.96.0.10
    clusterIPs:
    - 10.96.0.10
    internalTrafficPolicy: Cluster
    ipFamilies:
    - IPv4
    ipFamilyPolicy: SingleStack
    ports:
    - port: 80
      protocol: TCP
      targetPort: 8080
    selector:
      app: kubia
    sessionAffinity: None
    type: ClusterIP
  status:
    loadBalancer: {}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  addressType: IPv4
  endpoints:
  - addresses:
    - 10.244.1.5
    conditions:
      ready: true
      serving: true
      terminating: false
    nodeName: node-1
    targetRef:
      kind: Pod
      name: kubia-a
      namespace: default
      uid: 00000000-0000-0000-0000-000000000002
    zone: z1
  metadata:
    generateName: kubia-
    labels:
      endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io
      kubernetes.io/service-name: kubia
    name: kubia-x7k2p
    namespace: default
    ownerReferences:
    - apiVersion: v1
      kind: Service
      name: kubia
      uid: 6b0f3c1e-0000-4000-8000-000000000001
  ports:
  - name: ""
    port: 8080
    protocol: TCP
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: kubia
kind: List
metadata:
  resourceVersion: ""
`;
