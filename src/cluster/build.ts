/**
 * Objects → Cluster: the control plane's share of the work, so the compiler sees what kube-proxy would see.
 *
 * For each Service, in this order of precedence:
 * 1. EndpointSlices of the input labelled with the Service's name are used as they are;
 * 2. else, with a selector, slices are derived from the Pods like the EndpointSlice controller does;
 * 3. else, without a selector, slices are mirrored from a v1 Endpoints of the same name, like the
 *    EndpointSlice mirroring controller does.
 * ExternalName Services get no endpoints from either controller.
 */
import { sortDiagnostics, warning, type Diagnostic } from '../diag/diagnostic.js';
import { parseCIDR, parseIP, type IPFamily } from '../net/ip.js';
import { checkIngressBackends } from '../model/ingress.js';
import type { EndpointsObject, KubeObject, PodObject, ServiceObject } from '../model/objects.js';
import type { Cluster, Endpoint, EndpointPort, EndpointSlice, Ingress, NodeInfo, Service } from './types.js';

/** The controllers' default `--max-endpoints-per-slice`. */
const MAX_ENDPOINTS_PER_SLICE = 100;

export function buildCluster(objects: readonly KubeObject[]): { cluster: Cluster; diagnostics: Diagnostic[] } {
  const services: ServiceObject[] = [];
  const inputSlices: EndpointSlice[] = [];
  const endpoints = new Map<string, EndpointsObject>();
  const podsByNamespace = new Map<string, PodObject[]>();
  const nodes: NodeInfo[] = [];
  const ingresses: Ingress[] = [];
  for (const o of objects) {
    if (o.kind === 'Service') services.push(o);
    else if (o.kind === 'EndpointSlice') inputSlices.push(o.slice);
    else if (o.kind === 'Endpoints') endpoints.set(key(o.namespace, o.name), o);
    else if (o.kind === 'Pod') pushTo(podsByNamespace, o.namespace, o);
    else if (o.kind === 'Ingress') ingresses.push(o.ingress);
    else nodes.push(o.node);
  }

  const diagnostics: Diagnostic[] = [];
  const serviceKeys = new Set(services.map((s) => key(s.namespace, s.name)));
  const servicesWithSlices = new Set<string>();
  for (const slice of inputSlices) {
    const owner = slice.serviceName === undefined ? undefined : key(slice.namespace, slice.serviceName);
    if (owner !== undefined && serviceKeys.has(owner)) {
      servicesWithSlices.add(owner);
    } else {
      const why = slice.serviceName === undefined
        ? 'has no kubernetes.io/service-name label'
        : `belongs to Service ${slice.namespace}/${slice.serviceName}, which is not in the input`;
      diagnostics.push(warning('W_ORPHAN_ENDPOINTS', `EndpointSlice ${slice.namespace}/${slice.name} ${why}; kube-proxy ignores it`, slice.at));
    }
  }
  for (const e of endpoints.values()) {
    if (!serviceKeys.has(key(e.namespace, e.name))) {
      diagnostics.push(
        warning('W_ORPHAN_ENDPOINTS', `Endpoints ${e.namespace}/${e.name} belong to no Service of the input; they are ignored`, e.nameAt),
      );
    }
  }

  diagnostics.push(...checkIngressBackends(ingresses, services.map((s) => s.service)));

  const derived: EndpointSlice[] = [];
  for (const s of services) {
    const svc = s.service;
    const id = key(s.namespace, s.name);
    const manual = endpoints.get(id);
    if (svc.selector && manual && !manual.controllerManaged) {
      diagnostics.push(
        warning(
          'W_SELECTOR_AND_ENDPOINTS',
          `Service ${id} has a selector, so the endpoint controller owns its Endpoints; these hand-written ones are ignored`,
          manual.nameAt,
        ),
      );
    }
    if (svc.type === 'ExternalName' || servicesWithSlices.has(id)) continue;
    if (svc.selector) {
      const result = slicesFromPods(s, podsByNamespace.get(s.namespace) ?? []);
      derived.push(...result.slices);
      diagnostics.push(...result.diagnostics);
    } else if (manual && !manual.skipMirror) {
      derived.push(...mirrorEndpoints(manual));
    }
  }

  return {
    cluster: {
      services: services.map((s) => s.service),
      slices: [...inputSlices, ...derived],
      pods: [...podsByNamespace.values()].flat().map((p) => p.pod),
      ...(nodes.length > 0 ? { nodes } : {}),
      ...(ingresses.length > 0 ? { ingresses } : {}),
    },
    diagnostics: sortDiagnostics(diagnostics),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The EndpointSlice controller (pkg/controller/endpointslice): Pods → slices

function slicesFromPods(s: ServiceObject, pods: readonly PodObject[]): { slices: EndpointSlice[]; diagnostics: Diagnostic[] } {
  const svc = s.service;
  const selector = svc.selector ?? {};
  const selected = pods
    .filter((p) => Object.entries(selector).every(([k, v]) => p.labels[k] === v))
    .sort((a, b) => compareText(a.name, b.name));
  const diagnostics: Diagnostic[] = [];
  if (selected.length === 0) {
    const text = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
    diagnostics.push(
      warning('W_SELECTOR_NO_MATCH', `selector ${text} matches no Pod in namespace ${s.namespace}; the Service has no endpoints`, s.selectorAt ?? s.at),
    );
    return { slices: [], diagnostics };
  }

  // Pods the controller publishes: not terminal (Succeeded/Failed) and with an IP. Terminating ones stay.
  const eligible = selected.filter((p) => p.phase !== 'Succeeded' && p.phase !== 'Failed' && p.podIPs.length > 0);
  const families = s.ipFamilies.length > 0 ? s.ipFamilies : familiesOf(eligible);

  // Group endpoints by (family, port mapping): every endpoint of a slice shares the slice's ports.
  const groups = new Map<string, { family: IPFamily; ports: EndpointPort[]; endpoints: Endpoint[] }>();
  const resolved = svc.ports.map(() => false);
  for (const pod of eligible) {
    const ports: EndpointPort[] = [];
    svc.ports.forEach((sp, i) => {
      const number = typeof sp.targetPort === 'number' ? sp.targetPort : findNamedPort(pod, sp.targetPort, sp.protocol);
      if (number === undefined) return;
      resolved[i] = true;
      ports.push({ name: sp.name, port: number, protocol: sp.protocol });
    });
    const ready = s.publishNotReadyAddresses || pod.pod.ready;
    const terminating = pod.pod.terminating;
    for (const family of families) {
      const ip = pod.podIPs.find((text) => parseIP(text, { sloppy: true })?.family === family);
      if (ip === undefined) continue;
      const groupKey = `${family}|${ports.map((p) => `${p.name}/${p.protocol}/${p.port}`).join(',')}`;
      let group = groups.get(groupKey);
      if (!group) groups.set(groupKey, (group = { family, ports, endpoints: [] }));
      group.endpoints.push({
        addresses: [ip],
        ready: ready && !terminating,
        serving: ready,
        terminating,
        ...(pod.pod.nodeName !== undefined ? { nodeName: pod.pod.nodeName } : {}),
        pod: `${pod.namespace}/${pod.name}`,
      });
    }
  }

  svc.ports.forEach((sp, i) => {
    const name = sp.targetPort;
    // Warn only when no selected Pod defines the name at all (not when the Pods that do are not running yet).
    if (typeof name === 'string' && !resolved[i] && !selected.some((p) => findNamedPort(p, name, sp.protocol) !== undefined)) {
      diagnostics.push(
        warning(
          'W_NAMED_PORT_UNRESOLVED',
          `no selected Pod has a ${sp.protocol} container port named ${sp.targetPort}; port ${sp.port} has no endpoints`,
          s.targetPortAt[i] ?? sp.at,
        ),
      );
    }
  });

  const slices: EndpointSlice[] = [];
  for (const group of groups.values()) {
    for (let i = 0; i < group.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) {
      slices.push({
        namespace: s.namespace,
        name: `${s.name}-pods-${slices.length + 1}`,
        serviceName: s.name,
        addressType: group.family === 4 ? 'IPv4' : 'IPv6',
        ports: group.ports,
        endpoints: group.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE),
        origin: 'pods',
        at: svc.at,
      });
    }
  }
  return { slices, diagnostics };
}

/** podutil.FindPort: the first container port with this name and protocol (containers, then sidecars). */
function findNamedPort(pod: PodObject, name: string, protocol: Service['ports'][number]['protocol']): number | undefined {
  return pod.containerPorts.find((p) => p.name === name && p.protocol === protocol)?.port;
}

/** Without spec.ipFamilies or cluster IPs (headless, unallocated), publish the families the Pods have. */
function familiesOf(pods: readonly PodObject[]): IPFamily[] {
  const seen = new Set<IPFamily>();
  for (const p of pods) for (const ip of p.podIPs) {
    const family = parseIP(ip, { sloppy: true })?.family;
    if (family) seen.add(family);
  }
  return ([4, 6] as const).filter((f) => seen.has(f));
}

// ---------------------------------------------------------------------------------------------------------
// The EndpointSlice mirroring controller: v1 Endpoints of a selector-less Service → slices

function mirrorEndpoints(e: EndpointsObject): EndpointSlice[] {
  const slices: EndpointSlice[] = [];
  for (const subset of e.subsets) {
    const ports: EndpointPort[] = subset.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol }));
    const byFamily = new Map<IPFamily, Endpoint[]>();
    const add = (ready: boolean) => (a: EndpointsObject['subsets'][number]['addresses'][number]) => {
      const family = parseIP(a.ip, { sloppy: true })?.family;
      if (!family) return;
      // The mirroring controller sets only the ready condition.
      pushTo(byFamily, family, {
        addresses: [a.ip],
        ready,
        serving: null,
        terminating: null,
        ...(a.nodeName !== undefined ? { nodeName: a.nodeName } : {}),
        ...(a.pod !== undefined ? { pod: a.pod } : {}),
      });
    };
    subset.addresses.forEach(add(true));
    subset.notReadyAddresses.forEach(add(false));
    for (const family of [4, 6] as const) {
      const all = byFamily.get(family) ?? [];
      for (let i = 0; i < all.length; i += MAX_ENDPOINTS_PER_SLICE) {
        slices.push({
          namespace: e.namespace,
          name: `${e.name}-mirror-${slices.length + 1}`,
          serviceName: e.name,
          addressType: family === 4 ? 'IPv4' : 'IPv6',
          ports,
          endpoints: all.slice(i, i + MAX_ENDPOINTS_PER_SLICE),
          origin: 'endpoints',
          at: e.at,
        });
      }
    }
  }
  return slices;
}

// ---------------------------------------------------------------------------------------------------------

/**
 * The pod CIDR of `nodeName` in the given family, from the input's Node objects: what kube-proxy's NodeCIDR
 * local-traffic detector uses. Undefined when the Node or such a CIDR is not in the input.
 */
export function podCIDRForNode(cluster: Cluster, nodeName: string, family: IPFamily): string | undefined {
  const node = cluster.nodes?.find((n) => n.name === nodeName);
  return node?.podCIDRs.find((c) => parseCIDR(c, { sloppy: true })?.family === family);
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function pushTo<K, V>(map: Map<K, V[]>, k: K, v: V): void {
  const list = map.get(k);
  if (list) list.push(v);
  else map.set(k, [v]);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
