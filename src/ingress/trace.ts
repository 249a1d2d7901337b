/**
 * A URL followed end to end: hop 1 the host's address (entry.ts), hop 2 kube-proxy's rules from the client to
 * a controller Pod (the packet emulator, injected), hop 3 the controller's L7 rule (route.ts), hop 4 the
 * backend Service's endpoints (request.ts), and the outcomes with their probabilities: P(kube-proxy path) ×
 * P(endpoint), summed per end. Pure; the result is what `kproxy trace --url --json` prints.
 *
 * No controller in the manifests: if the Ingress's status names an address, a controller outside the manifests
 * is assumed to answer there (hop 2 cannot be traced, its Service is not given); without one the Ingress does
 * nothing (no process reads it) and the outcome says so, with what ingress-nginx would do once installed.
 */
import type { Cluster, Ingress } from '../cluster/types.js';
import type { Origin, PacketSpec } from '../emulate/packet.js';
import type { Outcome, Trace, TraceDetail } from '../emulate/trace.js';
import type { NodeConfig } from '../model/node-config.js';
import { parseIP } from '../net/ip.js';
import { findControllers } from './controller.js';
import { findEntry, type EntryPoint } from './entry.js';
import { routeRequest, type BackendResult, type HttpRequest, type RequestRoute } from './request.js';
import { buildNginxConfig, describeLocation, type NginxConfig } from './route.js';

export interface UrlRequest extends HttpRequest {
  url: string;
  /** The port written in the URL, if any. */
  urlPort: number | undefined;
}

export interface UrlTraceInput {
  request: UrlRequest;
  from: Origin;
  cluster: Cluster;
  node: NodeConfig;
  /** The client's address (chosen by the caller when the user gave none). */
  source: (destination: string) => string;
  /** kube-proxy's rules for one packet (iptables or nftables emulator). */
  tracePacket: (spec: PacketSpec) => TraceDetail;
}

export type UrlOutcome =
  | { probability: number; result: 'endpoint'; endpoint: string; pod?: string; controllerPods: string[] }
  | { probability: number; result: 'redirect'; location: string; controllerPods: string[] }
  | { probability: number; result: 'status'; status: number; why: string; controllerPods: string[] }
  | { probability: number; result: 'external-name'; target: string; controllerPods: string[] }
  | { probability: number; result: 'not-reached'; why: string }
  | { probability: number; result: 'no-controller'; why: string };

/** The JSON of `kproxy trace --url`. */
export interface UrlTrace {
  url: string;
  from: Origin;
  request: { scheme: string; host: string; path: string; port: number | null };
  controller: { service: string; why: string; pods: { name: string; ip: string | null }[]; others: string[] } | null;
  /** Set when the manifests hold no controller: what kproxy assumed instead. */
  assumption: string | null;
  entry: (Omit<EntryPoint, 'servicePort'> & { servicePort: number | null }) | { error: string };
  /** Hop 2: kube-proxy's trace of the first packet to the controller; null when it cannot be traced. */
  kubeProxy: Trace | null;
  /** The share of connections that reach a controller Pod, the Pods reached, and the source they see. */
  reached: { probability: number; pods: string[]; sources: string[] } | null;
  routing: {
    server: string;
    hostMatch: string;
    why: string;
    path: string;
    location: { match: string; path: string; origin: string };
    checks: { location: string; origin: string; matched: boolean; why: string }[];
    redirect: string | null;
    tls: string | null;
    uncertain: string[];
    ignoredIngresses: { ingress: string; reason: string }[];
    assumed: string[];
    shadowed: string[];
  };
  backend: BackendJson;
  outcomes: UrlOutcome[];
}

type BackendJson =
  | { kind: 'endpoints'; service: string; port: number; targetPort: number | string; endpoints: { address: string; pod: string | null; probability: number }[]; status: number | null; why: string }
  | { kind: 'external-name'; service: string; target: string; why: string }
  | { kind: 'status'; status: number; why: string };

export interface UrlTraceResult {
  trace: UrlTrace;
  /** The emulator's detail of hop 2, for the explanation. */
  detail: TraceDetail | undefined;
  route: RequestRoute;
  config: NginxConfig;
}

export function traceUrl(input: UrlTraceInput): UrlTraceResult | { error: string } {
  const { request, cluster, node } = input;
  const controllers = findControllers(cluster);
  const controller = controllers[0];
  const config = buildNginxConfig(cluster.ingresses ?? []);
  const route = routeRequest(config, request, cluster, node);
  const target = route.match.location.target;
  const routedIngress: Ingress | undefined = target.kind === 'backend' ? target.ingress : route.host.server.ingresses[0];
  const found = findEntry({ request, urlPort: request.urlPort, ingress: routedIngress, controller, nodeIP: node.nodeIP || undefined });
  const podAsks = 'a Pod asks cluster DNS, which forwards names outside cluster.local upstream: it gets the same address as a client outside';
  const entry = input.from === 'pod' && !('error' in found) && found.via !== 'url-address' ? { ...found, why: [...found.why, podAsks] } : found;

  let assumption: string | null = null;
  let detail: TraceDetail | undefined;
  let reached: UrlTrace['reached'] = null;
  const failures: UrlOutcome[] = [];
  if (!controller) {
    if ('error' in entry) {
      assumption = 'no ingress controller in the manifests and no address in the Ingress status: nothing reads the Ingress, so it does nothing; hops 3 and 4 show what ingress-nginx would do once installed';
      failures.push({ probability: 1, result: 'no-controller', why: 'no ingress controller: no process reads the Ingress and nothing answers for the host' });
    } else {
      assumption = `no ingress controller in the manifests: assuming an ingress-nginx controller outside them answers on ${entry.address}:${entry.port}, as the Ingress status says; kube-proxy's part (hop 2) cannot be traced without its Service`;
      reached = { probability: 1, pods: [], sources: [] };
    }
  } else if ('error' in entry) {
    return { error: entry.error };
  } else {
    const spec: PacketSpec = { protocol: 'tcp', source: input.source(entry.address), destination: entry.address, destinationPort: entry.port, origin: input.from };
    detail = input.tracePacket(spec);
    reached = { probability: 0, pods: [], sources: [] };
    for (const path of detail.trace.outcomes) {
      const to = path.dnat ?? path.finalDestination;
      const pod = controller.pods.find((p) => p.podIP !== undefined && hostOf(to) === parseIP(p.podIP, { sloppy: true })?.text);
      const arrives = path.result === 'delivered' || path.result === 'forwarded';
      if (pod && arrives) {
        reached.probability += path.probability;
        const name = `${pod.namespace}/${pod.name}`;
        if (!reached.pods.includes(name)) reached.pods.push(name);
        if (!reached.sources.includes(path.finalSource)) reached.sources.push(path.finalSource);
      } else {
        failures.push({ probability: path.probability, result: 'not-reached', why: missedController(path, to) });
      }
    }
  }

  const outcomes: UrlOutcome[] = [...(reached && reached.probability > 0 ? requestOutcomes(route, reached.probability, reached.pods) : []), ...failures];
  return {
    trace: {
      url: request.url,
      from: input.from,
      request: { scheme: request.scheme, host: request.host, path: request.path, port: request.urlPort ?? null },
      controller: controller
        ? {
            service: `${controller.service.namespace}/${controller.service.name}`,
            why: controller.why,
            pods: controller.pods.map((p) => ({ name: `${p.namespace}/${p.name}`, ip: p.podIP ?? null })),
            others: controllers.slice(1).map((c) => `${c.service.namespace}/${c.service.name}`),
          }
        : null,
      assumption,
      entry: 'error' in entry ? entry : { ...entry, servicePort: entry.servicePort?.port ?? null },
      kubeProxy: detail?.trace ?? null,
      reached,
      routing: routingJson(route, config),
      backend: backendJson(route.backend),
      outcomes,
    },
    detail,
    route,
    config,
  };
}

/** Why a kube-proxy path does not end at a controller Pod. */
function missedController(path: Outcome, to: string): string {
  const translated = path.dnat ? `DNATed to ${to}, which is not a controller Pod` : `not translated (no kube-proxy rule for ${to})`;
  switch (path.result) {
    case 'delivered':
    case 'forwarded':
      return `${translated}; the packet ${path.result === 'forwarded' ? 'leaves the node' : 'is delivered there'}`;
    case 'local':
      return `${translated}; the node's own stack gets it, and no controller listens there`;
    default:
      return `the packet is ${path.result} on the way to ${to}`;
  }
}

/** What the controller does with the request once a share `probability` of the packets reaches it. */
function requestOutcomes(route: RequestRoute, probability: number, controllerPods: string[]): UrlOutcome[] {
  if (route.redirect) return [{ probability, result: 'redirect', location: route.redirect, controllerPods }];
  const backend = route.backend;
  switch (backend.kind) {
    case 'status':
      return [{ probability, result: 'status', status: backend.status, why: backend.why, controllerPods }];
    case 'external-name':
      return [{ probability, result: 'external-name', target: backend.target, controllerPods }];
    case 'endpoints':
      if (backend.endpoints.length === 0) return [{ probability, result: 'status', status: 503, why: backend.why, controllerPods }];
      return backend.endpoints.map((e) => ({
        probability: probability * e.probability,
        result: 'endpoint' as const,
        endpoint: hostPort(e.ip, e.port),
        ...(e.pod ? { pod: e.pod } : {}),
        controllerPods,
      }));
  }
}

/** `10.0.0.1` of `10.0.0.1:80`, `fd00::1` of `[fd00::1]:80`. */
function hostOf(hostPortText: string): string {
  return hostPortText.replace(/^\[(.*)\]:\d+$/, '$1').replace(/^([^:]*):\d+$/, '$1');
}

function hostPort(ip: string, port: number): string {
  return parseIP(ip)?.family === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function routingJson(route: RequestRoute, config: NginxConfig): UrlTrace['routing'] {
  const location = route.match.location;
  return {
    server: route.host.server.name,
    hostMatch: route.host.kind,
    why: route.host.why,
    path: route.path,
    location: { match: location.match, path: location.path, origin: location.origin },
    checks: route.match.checks.map((c) => ({ location: describeLocation(c.location), origin: c.location.origin, matched: c.matched, why: c.why })),
    redirect: route.redirect ?? null,
    tls: route.tls ?? null,
    uncertain: route.uncertain,
    ignoredIngresses: config.ignored.map((i) => ({ ingress: `${i.ingress.namespace}/${i.ingress.name}`, reason: i.reason })),
    assumed: config.assumed,
    shadowed: config.shadowed,
  };
}

function backendJson(backend: BackendResult): BackendJson {
  switch (backend.kind) {
    case 'status':
      return backend;
    case 'external-name':
      return { kind: 'external-name', service: `${backend.service.namespace}/${backend.service.name}`, target: backend.target, why: backend.why };
    case 'endpoints':
      return {
        kind: 'endpoints',
        service: `${backend.service.namespace}/${backend.service.name}`,
        port: backend.servicePort.port,
        targetPort: backend.servicePort.targetPort,
        endpoints: backend.endpoints.map((e) => ({ address: hostPort(e.ip, e.port), pod: e.pod ?? null, probability: e.probability })),
        status: backend.status ?? null,
        why: backend.why,
      };
  }
}
