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
