/**
 * Destinations given as Service DNS names, answered the way cluster DNS (CoreDNS) would: a ClusterIP Service
 * resolves to its ClusterIP, a headless one to its ready Pod IPs, an ExternalName one to a CNAME (for which
 * kube-proxy writes no rules at all).
 */
import type { Cluster, Service } from '../cluster/types.js';
import { parseIP, type IPFamily } from '../net/ip.js';

export type Resolution =
  | { kind: 'ip'; ip: string }
  | { kind: 'clusterIP'; service: Service; fqdn: string; ip: string }
  | { kind: 'headless'; service: Service; fqdn: string; ips: string[] }
  | { kind: 'externalName'; service: Service; fqdn: string; externalName: string }
  | { kind: 'unknown'; message: string };

export function resolveDestination(text: string, cluster: Cluster | undefined, namespace: string, family: IPFamily): Resolution {
  if (parseIP(text)) return { kind: 'ip', ip: text };
  const labels = text.replace(/\.$/, '').split('.');
  const [name, ns, svc] = labels;
  if (!name || (labels.length >= 3 && svc !== 'svc')) return { kind: 'unknown', message: `${text} is neither an IP address nor a Service name (name, name.namespace, name.namespace.svc.cluster.local)` };
  const namespaceOf = labels.length === 1 ? namespace : (ns as string);
  if (!cluster) return { kind: 'unknown', message: `${text}: Service names can only be resolved from manifests, not with --rules alone` };
  const service = cluster.services.find((s) => s.name === name && s.namespace === namespaceOf);
  if (!service) return { kind: 'unknown', message: `no Service ${namespaceOf}/${name} in the manifests${labels.length === 1 ? ` (looked in namespace ${namespace}; use --namespace or name.namespace)` : ''}` };
  const fqdn = `${service.name}.${service.namespace}.svc.cluster.local`;
  if (service.type === 'ExternalName') return { kind: 'externalName', service, fqdn, externalName: service.externalName ?? '' };
  const ips = [service.clusterIP, ...service.clusterIPs].filter((ip) => ip && ip !== 'None').map((ip) => parseIP(ip, { sloppy: true })).filter((ip) => ip?.family === family);
  if (ips[0]) return { kind: 'clusterIP', service, fqdn, ip: ips[0].text };
  if (service.clusterIP === 'None' || service.clusterIP === '') {
    const addresses: string[] = [];
    for (const slice of cluster.slices) {
      if (slice.namespace !== service.namespace || slice.serviceName !== service.name) continue;
      for (const ep of slice.endpoints) {
        if (ep.ready === false) continue;
        for (const a of ep.addresses) if (parseIP(a, { sloppy: true })?.family === family && !addresses.includes(a)) addresses.push(a);
      }
    }
    return { kind: 'headless', service, fqdn, ips: addresses };
  }
  return { kind: 'unknown', message: `Service ${namespaceOf}/${name} has no IPv${family} ClusterIP` };
}
