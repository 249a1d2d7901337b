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
  /** Ingresses of the input (kube-proxy ignores them; `trace --url` follows them); absent = none given. */
  ingresses?: Ingress[];
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

/** An Ingress in networking.k8s.io/v1 terms (v1beta1 input is converted on load). */
export interface Ingress {
  namespace: string;
  name: string;
  /** The apiVersion as written (the deprecated ones are read as v1). */
  apiVersion: string;
  /** `spec.ingressClassName`, else the older `kubernetes.io/ingress.class` annotation; undefined when neither. */
  ingressClassName: string | undefined;
  /** `spec.defaultBackend` (v1beta1: `spec.backend`). */
  defaultBackend: IngressBackend | undefined;
  rules: IngressRule[];
  tls: { hosts: string[]; secretName: string | undefined }[];
  /** `status.loadBalancer.ingress`: where the ingress controller says it answers. */
  loadBalancerIngress: LoadBalancerIngress[];
  /** String annotations (ingress-nginx reads its settings from `nginx.ingress.kubernetes.io/*`). */
  annotations: Record<string, string>;
  at: Position;
}

export interface IngressRule {
  /** `""` when the rule has no host (it then applies to every host). May start with `*.`. */
  host: string;
  paths: IngressPath[];
  at: Position;
}

export type PathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';

export interface IngressPath {
  /** `""` only for ImplementationSpecific paths written without one (they mean every path). */
  path: string;
  pathType: PathType;
  backend: IngressBackend;
  at: Position;
}

/** A Service and port, or a custom resource (which no Service-based controller routes to). */
export type IngressBackend =
  | { kind: 'service'; service: string; port: number | string; at: Position }
  | { kind: 'resource'; resource: string; at: Position };
