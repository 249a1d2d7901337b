/**
 * The objects `loadManifests` returns: validated, with the API server's defaults applied, every field kproxy
 * uses typed, everything else dropped. Services and EndpointSlices are already in the shape the compiler reads
 * (cluster/types.ts); Endpoints, Pods and Nodes keep what the control-plane controllers in cluster/ need.
 */
import type { Position } from '../diag/diagnostic.js';
import type { IPFamily } from '../net/ip.js';
import type { EndpointSlice, Ingress, NodeInfo, PodInfo, Protocol, Service } from '../cluster/types.js';

export type { NodeInfo } from '../cluster/types.js';

export type KubeObject = ServiceObject | EndpointSliceObject | EndpointsObject | PodObject | NodeObject | IngressObject;

export type KubeKind = KubeObject['kind'];

interface ObjectHeader {
  /** Cluster-scoped kinds (Node) have namespace `""`. */
  namespace: string;
  name: string;
  labels: Record<string, string>;
  /** Start of the object in the input. */
  at: Position;
  /** Position of `metadata.name` (or of the object when absent). */
  nameAt: Position;
}

export interface ServiceObject extends ObjectHeader {
  kind: 'Service';
  service: Service;
  /** `spec.ipFamilies`, or the families of the cluster IPs; empty when neither says (headless, unallocated). */
  ipFamilies: IPFamily[];
  /** `spec.publishNotReadyAddresses`: the endpoint controller then marks every selected Pod ready. */
  publishNotReadyAddresses: boolean;
  /** Position of `spec.selector`, for selector warnings. */
  selectorAt?: Position;
  /** Position of each `spec.ports[i].targetPort` (or of the port when targetPort is absent). */
  targetPortAt: Position[];
}

export interface EndpointSliceObject extends ObjectHeader {
  kind: 'EndpointSlice';
  slice: EndpointSlice;
}

export interface EndpointsObject extends ObjectHeader {
  kind: 'Endpoints';
  subsets: EndpointSubset[];
  /** Written by the endpoints controller (has the `endpoints.kubernetes.io/last-change-trigger-time` annotation). */
  controllerManaged: boolean;
  /** Label `endpointslice.kubernetes.io/skip-mirror: "true"`: the mirroring controller leaves it alone. */
  skipMirror: boolean;
}

export interface EndpointSubset {
  addresses: EndpointAddress[];
  notReadyAddresses: EndpointAddress[];
  /** `name` is `""` when unnamed. */
  ports: { name: string; port: number; protocol: Protocol }[];
}

export interface EndpointAddress {
  ip: string;
  nodeName?: string;
  hostname?: string;
  /** `namespace/name` of a Pod targetRef. */
  pod?: string;
}

export interface PodObject extends ObjectHeader {
  kind: 'Pod';
  pod: PodInfo;
  /** `status.podIPs` (or `[status.podIP]`), as written. */
  podIPs: string[];
  /** `status.phase`; undefined when absent. */
  phase: string | undefined;
  /** Ports of `spec.containers` and of restartable (sidecar) init containers, in declaration order. */
  containerPorts: { name: string; port: number; protocol: Protocol }[];
}

export interface NodeObject extends ObjectHeader {
  kind: 'Node';
  node: NodeInfo;
}

export interface IngressObject extends ObjectHeader {
  kind: 'Ingress';
  ingress: Ingress;
}
