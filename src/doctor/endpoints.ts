/**
 * Endpoints as kube-proxy sees them (proxy/service-ports.ts): none at all, none ready, only terminating ones,
 * none on this node under a Local traffic policy; the Pods behind the ones that are not ready; headless
 * Services, which have no rules and live in DNS only.
 */
import type { Endpoint, EndpointSlice, ServicePort } from '../cluster/types.js';
import type { Position } from '../diag/diagnostic.js';
import type { PodObject } from '../model/objects.js';
import { categorizeEndpoints, type ProxyServicePort } from '../proxy/service-ports.js';
import type { DoctorContext, ServiceView } from './context.js';
import { finding, listSome, type Finding } from './finding.js';
import { isRecord } from './locate.js';

const REFUSED = 'kube-proxy writes a reject rule for it: clients are refused at once (connection refused, or ICMP port unreachable for UDP)';

export function checkEndpoints(view: ServiceView, ctx: DoctorContext): Finding[] {
  const svc = view.object.service;
  if (svc.type === 'ExternalName') return [];
  const slices = ctx.cluster.slices.filter((s) => s.namespace === view.object.namespace && s.serviceName === view.object.name);
  const isHeadless = svc.clusterIP === 'None';
  const out = [...notRunningPods(view), ...notReadyEndpoints(view, slices, ctx, isHeadless)];
  if (isHeadless) return [...out, ...headless(view, slices)];
  if (view.ports.length === 0) return out; // no clusterIP: the model has warned, kube-proxy ignores it

  const empty = view.ports.filter((p) => p.endpoints.length === 0);
  if (empty.length > 0) {
    const all = empty.length === view.ports.length;
    // One finding for the Service when every port is empty, else one per empty port.
    for (const port of all ? [undefined] : empty) {
      const what = port ? `port ${describePort(port)} has no endpoints` : 'the Service has no endpoints';
      const cause = whyNoEndpoints(view, slices, ctx, port ?? (view.ports.length === 1 ? view.ports[0] : undefined));
      out.push(finding('E_NO_ENDPOINTS', 'error', view.key, port ? servicePortOf(view, port).at : view.object.nameAt, `${what}: ${cause}. ${REFUSED}.`, noEndpointsHint(view, slices)));
    }
  }
  for (const port of view.ports) {
    if (port.endpoints.length === 0 || port.endpoints.some((e) => e.ready)) continue;
    const at = view.ports.length > 1 ? servicePortOf(view, port).at : view.object.nameAt;
    // Without ready endpoints kube-proxy falls back to the terminating ones that still serve.
    const stillServing = port.endpoints.filter((e) => e.serving && e.terminating).length;
    if (stillServing > 0) {
      out.push(
        finding(
          'W_ONLY_TERMINATING_ENDPOINTS',
          'warning',
          view.key,
          at,
          `no endpoint of port ${describePort(port)} is ready; ${stillServing === 1 ? 'one is' : `${stillServing} are`} terminating but still serving. kube-proxy sends new connections to those until they are gone; then the port has no endpoints.`,
          'check that the replacement Pods start and become Ready (kubectl get pods -w)',
        ),
      );
    } else {
      out.push(
        finding(
          'E_NO_READY_ENDPOINTS',
          'error',
          view.key,
          at,
          `port ${describePort(port)} has ${port.endpoints.length === 1 ? 'one endpoint, and it is not' : `${port.endpoints.length} endpoints, and none is`} ready, so ${REFUSED}.`,
          'see why the Pods are not Ready: kubectl describe pod POD (readiness probe, events)',
        ),
      );
    }
  }
  out.push(...trafficPolicyLocal(view, slices, ctx), ...sessionAffinity(view));
  return out;
}

/** "Everything goes to one Pod": ClientIP affinity, with a choice of Pods to stick to. */
function sessionAffinity(view: ServiceView): Finding[] {
  const svc = view.object.service;
  const choices = Math.max(0, ...view.ports.map((p) => p.endpoints.filter((e) => e.ready).length));
  if (svc.sessionAffinity !== 'ClientIP' || choices < 2) return [];
  const seconds = svc.sessionAffinityTimeoutSeconds;
  return [
    finding(
      'I_SESSION_AFFINITY',
      'info',
      view.key,
      view.at(['spec', 'sessionAffinity']),
      `sessionAffinity: ClientIP: kube-proxy remembers each client address for ${seconds} s${seconds % 3600 === 0 ? ` (${seconds / 3600} h)` : ''} after its last new connection and sends its new connections to the Pod it reached first. Load is spread per client, not per connection: one busy client, or many clients behind one NAT address, all land on one Pod. It works on addresses only (layer 4): there is no cookie-based affinity.`,
      `to watch it, kproxy trace … --dst ${svc.name}.${svc.namespace} --dport ${svc.ports[0]?.port ?? 'PORT'} --connections 5`,
    ),
  ];
}

// ---------------------------------------------------------------------------------------------------------

/** The cause, for one port (`port`) or for all of them. */
function whyNoEndpoints(view: ServiceView, slices: readonly EndpointSlice[], ctx: DoctorContext, port: ProxyServicePort | undefined): string {
  const { object } = view;
  const selector = object.service.selector;
  if (selector) {
    if (ctx.pods.length > 0 && view.selected?.length === 0) return 'its selector matches no Pod';
    if (view.selected && view.selected.length > 0 && view.selected.every((p) => p.podIPs.length === 0)) return 'the Pods it selects have no IP yet';
    const servicePort = port ? servicePortOf(view, port) : undefined;
    const name = typeof servicePort?.targetPort === 'string' ? servicePort.targetPort : undefined;
    const protocol = servicePort?.protocol;
    if (name !== undefined && !view.selected?.some((p) => p.containerPorts.some((c) => c.name === name && c.protocol === protocol))) {
      return `no selected Pod has a ${protocol} container port named ${name}, its targetPort`;
    }
    if (view.selected && view.selected.length > 0) return 'the selected Pods are not in its EndpointSlices';
    return 'its EndpointSlices list no endpoint';
  }
  if (slices.length > 0) {
    if (slices.every((s) => s.endpoints.length === 0)) return 'it has no selector, and its Endpoints/EndpointSlices list no address';
    const offered = [...new Set(slices.flatMap((s) => s.ports.map((p) => `${JSON.stringify(p.name ?? '')}/${p.protocol}`)))];
    const wanted = (port ? [servicePortOf(view, port)] : view.object.service.ports).map((p) => `${JSON.stringify(p.name)}/${p.protocol}`);
    return `it has no selector, and its Endpoints/EndpointSlices offer the ports ${listSome(offered)}; kube-proxy pairs a Service port with the endpoint port of the same name and protocol, and none of them is ${listSome(wanted)}`;
  }
  // Endpoints and slices of this namespace that belong to no Service: likely meant for this one.
  const strays = ctx.index
    .all()
    .filter((o) => (o.kind === 'Endpoints' || o.kind === 'EndpointSlice') && o.namespace === object.namespace)
    .filter((o) => {
      const owner = o.kind === 'Endpoints' ? o.name : o.serviceName;
      return owner === undefined || !ctx.index.find('Service', o.namespace, owner);
    })
    .map((o) => (o.kind === 'Endpoints' ? `Endpoints ${o.name}` : `EndpointSlice ${o.name} (service-name ${o.serviceName ?? 'unset'})`));
  const note = strays.length > 0 ? ` (the input has ${listSome(strays)}, which belong${strays.length === 1 ? 's' : ''} to no Service: is the name right?)` : '';
  return `it has no selector and there is no Endpoints object named ${object.name}${note}, so nothing tells kube-proxy where to send its traffic`;
}

function noEndpointsHint(view: ServiceView, slices: readonly EndpointSlice[]): string {
  const svc = view.object.service;
  if (!svc.selector && slices.some((s) => s.endpoints.length > 0)) {
    return `name the ports of the Endpoints like the Service's (${listSome(svc.ports.map((p) => p.name || '(unnamed)'))}), with the same protocols`;
  }
  if (svc.selector) return 'fix the cause doctor reports for this Service; kubectl get endpointslices -l kubernetes.io/service-name=' + view.object.name + ' shows what the control plane found';
  return `write an Endpoints object with exactly the Service's name (${view.object.name}) and namespace, listing the addresses and ports to send to, or give the Service a selector`;
}

/** Selected Pods the endpoint controller leaves out altogether. */
function notRunningPods(view: ServiceView): Finding[] {
  return (view.selected ?? []).flatMap((pod) => {
    const finished = pod.phase === 'Succeeded' || pod.phase === 'Failed';
    if (!finished && pod.podIPs.length > 0) return [];
    const why = finished ? `has finished (phase ${pod.phase})` : `has no IP yet (phase ${pod.phase ?? 'unknown'}: not scheduled or still starting)`;
    return [
      finding(
        'W_POD_NOT_RUNNING',
        'warning',
        view.key,
        pod.at,
        `Pod ${pod.name} matches the selector but ${why}, so it is not an endpoint of the Service.`,
        'kubectl describe pod ' + pod.name + ' shows why (scheduling, image pulls, crashes)',
      ),
    ];
  });
}

/** One finding per endpoint that is neither ready nor terminating, at the Pod's Ready condition when known. */
function notReadyEndpoints(view: ServiceView, slices: readonly EndpointSlice[], ctx: DoctorContext, isHeadless: boolean): Finding[] {
  const effect = isHeadless ? 'cluster DNS leaves its address out of the answers' : 'kube-proxy sends it no connections';
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const slice of slices) {
    for (const endpoint of slice.endpoints) {
      if (endpoint.ready !== false || endpoint.terminating === true) continue;
      const address = endpoint.addresses[0] ?? '';
      if (seen.has(address)) continue;
      seen.add(address);
      const pod = podOf(endpoint, ctx);
      const who = pod ? `Pod ${pod.name} (${address})` : `endpoint ${address}`;
      out.push(
        finding(
          'W_POD_NOT_READY',
          'warning',
          view.key,
          pod ? readyConditionAt(pod, ctx) : slice.at,
          `${who} is not ready${endpoint.nodeName ? ` (on ${endpoint.nodeName})` : ''}: ${effect} until it is.`,
          pod ? `kubectl describe pod ${pod.name}: the events say why the readiness probe fails` : 'the EndpointSlice/Endpoints mark it not ready (notReadyAddresses or ready: false)',
        ),
      );
    }
  }
  return out;
}

function podOf(endpoint: Endpoint, ctx: DoctorContext): PodObject | undefined {
  const byRef = endpoint.pod === undefined ? undefined : ctx.podsByKey.get(endpoint.pod);
  const address = endpoint.addresses[0];
  return byRef ?? (address === undefined ? undefined : ctx.podsByIP.get(address));
}

function readyConditionAt(pod: PodObject, ctx: DoctorContext): Position {
  const located = ctx.index.find('Pod', pod.namespace, pod.name);
  const status = located?.value.status;
  const conditions = isRecord(status) && Array.isArray(status.conditions) ? status.conditions : [];
  const i = conditions.findIndex((c) => isRecord(c) && c.type === 'Ready');
  return located ? located.locate(i >= 0 ? ['status', 'conditions', i] : ['status']) : pod.at;
}

function headless(view: ServiceView, slices: readonly EndpointSlice[]): Finding[] {
  const fqdn = `${view.object.name}.${view.object.namespace}.svc.cluster.local`;
  const ready = [...new Set(slices.flatMap((s) => s.endpoints.filter((e) => e.ready !== false).flatMap((e) => e.addresses.slice(0, 1))))];
  if (ready.length === 0) {
    return [
      finding(
        'E_NO_ENDPOINTS',
        'error',
        view.key,
        view.object.nameAt,
        `headless Service without ready endpoints: cluster DNS has no address for ${fqdn}, so clients fail at name lookup.`,
        noEndpointsHint(view, slices),
      ),
    ];
  }
  return [
    finding(
      'I_HEADLESS',
      'info',
      view.key,
      view.at(['spec', 'clusterIP']),
      `clusterIP: None makes this Service headless: it has no virtual IP and kube-proxy writes no rules for it. Cluster DNS answers ${fqdn} with the ready Pod IPs themselves (${listSome(ready)}); the client connects to one of them directly, on the port it chooses: the Service's port → targetPort mapping does not apply.`,
    ),
  ];
}

/** externalTrafficPolicy / internalTrafficPolicy Local with endpoints, but none ready on this node. */
function trafficPolicyLocal(view: ServiceView, slices: readonly EndpointSlice[], ctx: DoctorContext): Finding[] {
  const node = ctx.config.nodeName;
  const out: Finding[] = [];
  const starved = view.ports.filter((p) => {
    if (!p.usesLocalEndpoints) return false;
    const categorized = categorizeEndpoints(p);
    return categorized.hasAny && categorized.local.length === 0;
  });
  if (starved.length === 0) return out;
  const readyIPs = new Set(starved.flatMap((p) => p.endpoints.filter((e) => e.ready).map((e) => e.ip)));
  const nodes = [...new Set(slices.flatMap((s) => s.endpoints.filter((e) => readyIPs.has(e.addresses[0] ?? '')).map((e) => e.nodeName ?? 'a node the input does not name')))];
  const where = `the ready ones run on ${listSome(nodes)}`;
  const svc = view.object.service;
  if (starved.some((p) => p.externalPolicyLocal && p.externallyAccessible)) {
    const health = svc.type === 'LoadBalancer' && svc.healthCheckNodePort > 0 ? ` A cloud load balancer notices this through healthCheckNodePort ${svc.healthCheckNodePort} (it answers 503 here) and stops sending to this node.` : '';
    out.push(
      finding(
        'W_ETP_LOCAL_NO_LOCAL_ENDPOINT',
        'warning',
        view.key,
        view.at(['spec', 'externalTrafficPolicy']),
        `externalTrafficPolicy: Local sends traffic that arrives from outside (NodePort, load-balancer or external IPs) only to endpoints on the node it arrived at, so the client's source IP is kept. This node (${node}) has no ready endpoint (${where}), so such traffic arriving here is dropped.${health} Pods on this node still reach the Service through its ClusterIP.`,
        `send outside clients to a node that runs a ready Pod (${listSome(nodes)}), run a Pod on every node (a DaemonSet), or use externalTrafficPolicy: Cluster (the source IP is then masqueraded)`,
      ),
    );
  }
  if (starved.some((p) => p.internalPolicyLocal)) {
    out.push(
      finding(
        'W_ITP_LOCAL_NO_LOCAL_ENDPOINT',
        'warning',
        view.key,
        view.at(['spec', 'internalTrafficPolicy']),
        `internalTrafficPolicy: Local sends ClusterIP traffic only to endpoints on the client's own node. This node (${node}) has no ready endpoint (${where}), so connections to the ClusterIP from here are dropped.`,
        'run a Pod of the Service on every node that has clients (a DaemonSet), or remove internalTrafficPolicy: Local',
      ),
    );
  }
  return out;
}

function servicePortOf(view: ServiceView, port: ProxyServicePort): ServicePort {
  const ports = view.object.service.ports;
  return ports.find((p) => p.port === port.port && p.protocol.toLowerCase() === port.protocol) ?? (ports[0] as ServicePort);
}

function describePort(port: ProxyServicePort): string {
  const name = port.portName.includes(':') ? port.portName.slice(port.portName.indexOf(':') + 1) : '';
  return `${port.port}/${port.protocol.toUpperCase()}${name ? ` (${name})` : ''}`;
}
