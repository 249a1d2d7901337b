/**
 * The cluster as kube-proxy sees it: Services and EndpointSlices, after the API server's defaults and after the
 * control plane has derived slices (from Pods by the endpoint controller, from v1 Endpoints by the mirroring
 * controller). kube-proxy's own logic (which slices count, dedup, sorting, readiness) lives in proxy/.
 */
import type { Position } from '../diag/diagnostic.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface Cluster {
  /** Every Service of the input, including headless and ExternalName ones (proxy/ skips those). */
  services: Service[];
  /** EndpointSlices given in the input plus those derived for Services that had none. */
  slices: EndpointSlice[];
  /** Pods of the input, for DNS answers (headless Services) and for explanations. */
  pods: PodInfo[];
  /** Nodes of the input (pod CIDRs for NodeCIDR local detection, addresses); absent = none given. */
  nodes?: NodeInfo[];
}

export interface Service {
  namespace: string;
  name: string;
  /** `spec.type` as written; undefined when unset (the API server would default it to ClusterIP). */
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName' | undefined;
  /** `spec.clusterIP` as written (`""`, `"None"` or an address, possibly with leading zeros). */
  clusterIP: string;
  /** `spec.clusterIPs` (dual-stack), first entry = clusterIP; empty when unset. */
  clusterIPs: string[];
  externalName?: string;
  /** `spec.externalIPs` as written. */
  externalIPs: string[];
  /** `status.loadBalancer.ingress`. */
  loadBalancerIngress: LoadBalancerIngress[];
  /** `spec.loadBalancerSourceRanges` as written (kube-proxy trims whitespace itself). */
  loadBalancerSourceRanges: string[];
  sessionAffinity: 'None' | 'ClientIP';
  /** `sessionAffinityConfig.clientIP.timeoutSeconds`, defaulted to 10800 for ClientIP. */
  sessionAffinityTimeoutSeconds: number;
  externalTrafficPolicy: 'Cluster' | 'Local' | undefined;
  internalTrafficPolicy: 'Cluster' | 'Local' | undefined;
  healthCheckNodePort: number;
  /** Label selector; undefined = no selector (endpoints come from a manual Endpoints/EndpointSlice). */
  selector: Record<string, string> | undefined;
  ports: ServicePort[];
  /** Where the object starts in the input, for diagnostics and explanations. */
  at: Position;
}

export interface ServicePort {
  /** `""` when unnamed. */
  name: string;
  protocol: Protocol;
  port: number;
  /** Number, or a container port name; defaulted to `port`. */
  targetPort: number | string;
  /** 0 when none. */
  nodePort: number;
  at: Position;
}

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  /** `VIP` or `Proxy`; unset means VIP. */
  ipMode?: string;
}

export interface EndpointSlice {
  namespace: string;
  name: string;
  /** Value of the `kubernetes.io/service-name` label; undefined when the label is missing. */
  serviceName: string | undefined;
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  ports: EndpointPort[];
  endpoints: Endpoint[];
  /** How the slice came to be: given in the input, or derived by kproxy from Pods / v1 Endpoints. */
  origin: 'input' | 'pods' | 'endpoints';
  at: Position;
}

export interface EndpointPort {
  /** null when the port has no name field at all (kube-proxy skips such ports); `""` for unnamed. */
  name: string | null;
  /** null or 0 when unset (skipped by kube-proxy). */
  port: number | null;
  protocol: Protocol;
}

export interface Endpoint {
  addresses: string[];
  /** null = condition unset (ready/serving then count as true, terminating as false). */
  ready: boolean | null;
  serving: boolean | null;
  terminating: boolean | null;
  nodeName?: string;
  /** `targetRef` pod, when known (`namespace/name`). */
  pod?: string;
}

export interface PodInfo {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  podIP?: string;
  nodeName?: string;
  ready: boolean;
  terminating: boolean;
  /** Container ports by name (named targetPort resolution). */
  namedPorts: { name: string; port: number; protocol: Protocol }[];
  at: Position;
}

export interface NodeInfo {
  name: string;
  labels: Record<string, string>;
  /** `spec.podCIDRs` (or `[spec.podCIDR]`), as written. */
  podCIDRs: string[];
  /** `status.addresses` whose type is InternalIP or ExternalIP. */
  addresses: { type: string; address: string }[];
  at: Position;
}
