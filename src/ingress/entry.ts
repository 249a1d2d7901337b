/**
 * Hop 1 of a request: which address and port the URL's host leads to. DNS for an Ingress host is set up by
 * hand or by external-dns; it points where the controller answers. In this order:
 *
 *   1. the URL names an address itself (http://203.0.113.20/): that address;
 *   2. the `status.loadBalancer.ingress` IP of the Ingress that routes the host (ingress-nginx copies its own
 *      Service's load-balancer address there: what `kubectl get ingress` shows under ADDRESS);
 *   3. the controller Service's load-balancer IP, then its externalIPs;
 *   4. a NodePort of the controller Service on this node's IP (bare metal, kind, minikube).
 *
 * The scheme picks the controller Service port: http → 80 (or the port named http), https → 443 (or https);
 * a port in the URL is used as written, and one that is a nodePort of the controller Service selects (4).
 */
import type { Ingress, ServicePort } from '../cluster/types.js';
import { parseIP } from '../net/ip.js';
import { webPort, type IngressController } from './controller.js';
import type { HttpRequest } from './request.js';

export interface EntryPoint {
  address: string;
  port: number;
  via: 'url-address' | 'ingress-status' | 'load-balancer' | 'external-ip' | 'node-port';
  /** The controller Service port the packet is meant for (undefined when nothing says). */
  servicePort: ServicePort | undefined;
  why: string[];
}

export interface EntryInput {
  request: HttpRequest;
  /** The port written in the URL, if any. */
  urlPort: number | undefined;
  /** The Ingress whose rule routes the host (its status names the address). */
  ingress: Ingress | undefined;
  controller: IngressController | undefined;
  /** This node's primary IP, for NodePorts. */
  nodeIP: string | undefined;
}

export function findEntry(input: EntryInput): EntryPoint | { error: string } {
  const { request, urlPort, ingress, controller, nodeIP } = input;
  const defaultPort = request.scheme === 'http' ? 80 : 443;
  const port = urlPort ?? defaultPort;
  const service = controller?.service;
  const servicePortFor = (p: number) => service?.ports.find((sp) => sp.protocol === 'TCP' && sp.port === p);
  const portWhy = urlPort === undefined ? `${request.scheme} without a port in the URL: port ${port}` : `port ${port} from the URL`;

  if (parseIP(request.host)) {
    return { address: request.host, port, via: 'url-address', servicePort: servicePortFor(port), why: [`the URL names the address ${request.host} itself (no DNS); ${portWhy}`] };
  }
  const nodePortHit = urlPort !== undefined && service ? service.ports.find((sp) => sp.protocol === 'TCP' && sp.nodePort === urlPort) : undefined;
  const dns = `${request.host} has to resolve (public DNS, external-dns or /etc/hosts) to where the controller answers`;
  if (!nodePortHit) {
    const candidates: [EntryPoint['via'], string | undefined, string][] = [
      ['ingress-status', ingress?.loadBalancerIngress.find((e) => e.ip)?.ip, `the status.loadBalancer.ingress of Ingress ${ingress?.namespace}/${ingress?.name} (ingress-nginx copies its Service's load-balancer address there; kubectl get ingress shows it as ADDRESS)`],
      ['load-balancer', service?.loadBalancerIngress.find((e) => e.ip)?.ip, `the load-balancer IP of the controller Service ${service?.namespace}/${service?.name}`],
      ['external-ip', service?.externalIPs[0], `an externalIP of the controller Service ${service?.namespace}/${service?.name}`],
    ];
    for (const [via, address, what] of candidates) {
      if (address === undefined) continue;
      return { address, port, via, servicePort: servicePortFor(port), why: [`${dns}: ${address}, ${what}`, portWhy] };
    }
  }
  if (!service) return { error: `nothing says where ${request.host} is served: the Ingress has no status.loadBalancer address and the manifests hold no ingress controller Service` };
  const nodePort = nodePortHit ?? webPort(service, request.scheme);
  if (!nodePort || nodePort.nodePort === 0 || !nodeIP) {
    const what = !nodeIP ? 'this node has no IP in its settings' : `the controller Service ${service.namespace}/${service.name} has no load-balancer IP, no externalIP and no ${request.scheme} NodePort`;
    return { error: `no address for ${request.host}: ${what}` };
  }
  const svcText = `the controller Service ${service.namespace}/${service.name} (type ${service.type ?? 'ClusterIP'})`;
  const why = nodePortHit
    ? [`port ${urlPort} from the URL is the NodePort of ${svcText}'s port ${nodePort.port}, open on every node: ${dns}, a node's IP: ${nodeIP}, this node`]
    : [
        `${dns}: ${svcText} has no load-balancer IP or externalIP, so clients reach it on a node's IP: ${nodeIP}, this node`,
        `${portWhy} on a node reaches nothing (kube-proxy only captures the NodePort); a client must write the NodePort, ${request.scheme}://${request.host}:${nodePort.nodePort}/: tracing that`,
      ];
  return { address: nodeIP, port: nodePort.nodePort, via: 'node-port', servicePort: nodePort, why };
}
