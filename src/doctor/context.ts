/**
 * What every check reads: the objects as the model loaded them, the cluster as the control plane would derive
 * it, kube-proxy's own per-port view of the endpoints (proxy/service-ports.ts, so "no endpoints" means what it
 * means to kube-proxy), the node, and positions.
 */
import type { Cluster } from '../cluster/types.js';
import type { Position } from '../diag/diagnostic.js';
import type { EndpointsObject, KubeObject, PodObject, ServiceObject } from '../model/objects.js';
import type { NodeConfig } from '../model/node-config.js';
import type { Path } from '../model/source.js';
import { proxyServicePorts, type ProxyServicePort } from '../proxy/service-ports.js';
import { groupBy, objectKey } from './finding.js';
import type { ObjectIndex } from './locate.js';

export interface DoctorContext {
  config: NodeConfig;
  cluster: Cluster;
  services: ServiceView[];
  pods: PodObject[];
  /** Pods by `namespace/name` and by each address as written, for the endpoints that name them. */
  podsByKey: Map<string, PodObject>;
  podsByIP: Map<string, PodObject>;
  endpoints: EndpointsObject[];
  index: ObjectIndex;
}

export interface ServiceView {
  object: ServiceObject;
  /** `namespace/name`. */
  key: string;
  /** Position of a field of the Service (of its nearest written ancestor when the field is absent). */
  at(path: Path): Position;
  /** Pods of the Service's namespace that its selector matches; undefined without a selector. */
  selected: PodObject[] | undefined;
  /** kube-proxy's service ports with their endpoints; empty for headless, ExternalName and unallocated Services. */
  ports: ProxyServicePort[];
}

export function makeContext(objects: readonly KubeObject[], cluster: Cluster, config: NodeConfig, index: ObjectIndex): DoctorContext {
  const pods = objects.filter((o): o is PodObject => o.kind === 'Pod');
  // A Service selects in its own namespace only; grouping keeps large dumps from costing Services × Pods.
  const podsByNamespace = groupBy(pods, (p) => p.namespace);
  const portsByService = groupBy(proxyServicePorts(cluster, config), (p) => objectKey(p.service));
  const services = objects
    .filter((o): o is ServiceObject => o.kind === 'Service')
    .map((object): ServiceView => {
      const key = objectKey(object);
      const located = index.find('Service', object.namespace, object.name);
      const selector = object.service.selector;
      return {
        object,
        key,
        at: (path) => located?.locate(path) ?? object.at,
        selected: selector && (podsByNamespace.get(object.namespace) ?? []).filter((p) => selectorMatches(selector, p.labels)),
        ports: portsByService.get(key) ?? [],
      };
    });
  const podsByKey = new Map(pods.map((p) => [objectKey(p), p]));
  const podsByIP = new Map(pods.flatMap((p) => p.podIPs.map((ip): [string, PodObject] => [ip, p])));
  return { config, cluster, services, pods, podsByKey, podsByIP, endpoints: objects.filter((o): o is EndpointsObject => o.kind === 'Endpoints'), index };
}

/** Equality-based selection, as Services select: every key present with exactly this value. */
export function selectorMatches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function selectorText(selector: Record<string, string>): string {
  return Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
}
