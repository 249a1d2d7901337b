/**
 * One HTTP request through ingress-nginx: server by host, location by path (route.ts), then the backend.
 * ingress-nginx does not send the request to the backend Service's ClusterIP: it watches the Service's
 * EndpointSlices and proxies to the ready Pod addresses (the targetPort) itself, round-robin by default
 * (`load-balance: round_robin`), so each endpoint gets 1/n of the requests and kube-proxy's rules play no part
 * in this hop. No ready endpoint, a missing Service or port: 503. No matching location with a backend: the
 * controller's default backend answers 404.
 */
import type { Cluster, IngressBackend, Service, ServicePort } from '../cluster/types.js';
import type { NodeConfig } from '../model/node-config.js';
import { proxyServicePorts } from '../proxy/service-ports.js';
import {
  matchHost,
  matchPath,
  normalizePath,
  regexAnnotations,
  tlsFor,
  type HostMatch,
  type NginxConfig,
  type NginxLocation,
  type PathMatch,
} from './route.js';

export interface WeightedEndpoint {
  ip: string;
  port: number;
  /** `namespace/name` of the Pod with this address, when the manifests have it. */
  pod?: string;
  probability: number;
}

/** What the chosen location leads to. */
export type BackendResult =
  | { kind: 'endpoints'; service: Service; servicePort: ServicePort; endpoints: WeightedEndpoint[]; status?: 503; why: string }
  | { kind: 'external-name'; service: Service; target: string; why: string }
  | { kind: 'status'; status: 404 | 503; why: string };

export interface RequestRoute {
  host: HostMatch;
  /** The path as nginx matches it (decoded, normalized). */
  path: string;
  match: PathMatch;
  /** `https://…` when ingress-nginx answers a plain-HTTP request with a 308 redirect instead. */
  redirect?: string;
  /** TLS remark for https requests (certificate from which Secret, or the controller's fake one). */
  tls?: string;
  /** Things kproxy does not evaluate that may change the result (regex paths). */
  uncertain: string[];
  backend: BackendResult;
}

export interface HttpRequest {
  scheme: 'http' | 'https';
  host: string;
  path: string;
}

export function routeRequest(config: NginxConfig, request: HttpRequest, cluster: Cluster, node: NodeConfig): RequestRoute {
  const host = matchHost(config, request.host);
  const path = normalizePath(request.path);
  const match = matchPath(host.server, path);
  const uncertain = regexAnnotations(host.server).map((a) => `${a}: paths on ${host.server.name} are regular expressions in nginx; kproxy matched them as plain paths`);
  const tls = tlsFor(host.server, request.host.toLowerCase());
  const target = match.location.target;
  const route: RequestRoute = { host, path, match, uncertain, backend: backendOf(match.location, cluster, node) };
  if (request.scheme === 'https') {
    route.tls = tls
      ? `TLS with the certificate of Secret ${tls.ingress.namespace}/${tls.secretName ?? '(none given)'} (spec.tls of Ingress ${tls.ingress.namespace}/${tls.ingress.name})`
      : `no Ingress lists ${request.host} under spec.tls: ingress-nginx answers with its self-signed default certificate (clients warn)`;
  } else if (tls && target.kind === 'backend' && target.ingress.annotations['nginx.ingress.kubernetes.io/ssl-redirect'] !== 'false') {
    route.redirect = `https://${request.host}${request.path}`;
  }
  return route;
}

function backendOf(location: NginxLocation, cluster: Cluster, node: NodeConfig): BackendResult {
  const target = location.target;
  if (target.kind === 'default-backend') return { kind: 'status', status: 404, why: "the controller's default backend answers 404 Not Found" };
  return serviceBackend(target.backend, target.ingress.namespace, cluster, node);
}

function serviceBackend(backend: IngressBackend, namespace: string, cluster: Cluster, node: NodeConfig): BackendResult {
  if (backend.kind === 'resource') {
    return { kind: 'status', status: 404, why: `the backend is the resource ${backend.resource}: ingress-nginx routes only to Services, so its default backend answers 404` };
  }
  const id = `${namespace}/${backend.service}`;
  const service = cluster.services.find((s) => s.namespace === namespace && s.name === backend.service);
  if (!service) return { kind: 'status', status: 503, why: `Service ${id} is not in the manifests: nginx has no upstream for it and answers 503 Service Unavailable` };
  if (service.type === 'ExternalName') {
    return { kind: 'external-name', service, target: `${service.externalName ?? ''}:${backend.port}`, why: `Service ${id} is an ExternalName: ingress-nginx resolves ${service.externalName ?? ''} with DNS and proxies there` };
  }
  const port = backend.port;
  const servicePort = service.ports.find((p) => (typeof port === 'number' ? p.port === port : p.name === port));
  if (!servicePort) return { kind: 'status', status: 503, why: `Service ${id} has no port ${port}: nginx has no upstream for it and answers 503 Service Unavailable` };
  const proxied = proxyServicePorts(cluster, node).find((p) => p.service === service && p.port === servicePort.port && p.protocol === servicePort.protocol.toLowerCase());
  const ready = (proxied?.endpoints ?? []).filter((e) => e.ready);
  const portText = `${servicePort.port}${servicePort.name ? ` (${servicePort.name})` : ''}`;
  if (ready.length === 0) {
    const why = proxied
      ? `Service ${id} port ${portText} has no ready endpoint: ingress-nginx answers 503 Service Unavailable`
      : `Service ${id} has no cluster IP of this node's family (headless or unallocated): kproxy does not list its endpoints`;
    return { kind: 'endpoints', service, servicePort, endpoints: [], status: 503, why };
  }
  const endpoints = ready.map((e): WeightedEndpoint => {
    const pod = cluster.pods.find((p) => p.podIP === e.ip);
    return { ip: e.ip, port: e.port, ...(pod ? { pod: `${pod.namespace}/${pod.name}` } : {}), probability: 1 / ready.length };
  });
  return {
    kind: 'endpoints',
    service,
    servicePort,
    endpoints,
    why: `Service ${id} port ${portText} → targetPort ${String(servicePort.targetPort)}: ingress-nginx proxies to the ${ready.length} ready endpoint${ready.length === 1 ? '' : 's'} directly (round-robin, 1/${ready.length} each), not to the ClusterIP ${service.clusterIP}`,
  };
}
