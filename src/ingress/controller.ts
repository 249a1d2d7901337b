/**
 * Finding the ingress controller in the manifests. An Ingress is only a routing table: nothing happens until a
 * controller reads it. kproxy models ingress-nginx (the controller the notes' examples are written for) and
 * recognizes it by its Service:
 *
 *   1. a Service whose selector has `app.kubernetes.io/name: ingress-nginx` (the official manifests and Helm
 *      chart) or `app: ingress-nginx` / `app: nginx-ingress` (older manifests), or
 *   2. a Service whose name contains both "ingress" and "controller" (ingress-nginx-controller,
 *      nginx-ingress-controller),
 *
 * that has a TCP port 80 or 443 (or one named http/https). The admission webhook's Service
 * (`…-controller-admission`) matches rule 1 but serves no traffic, so it is left out. With several candidates,
 * one with an HTTP port comes first, then by namespace/name; the others are reported.
 */
import type { Cluster, PodInfo, Service, ServicePort } from '../cluster/types.js';
import { compareText } from '../proxy/service-ports.js';

/** The IngressClass ingress-nginx serves by default (`--ingress-class`, controller value k8s.io/ingress-nginx). */
export const NGINX_CLASS = 'nginx';

export interface IngressController {
  service: Service;
  /** Which rule recognized the Service. */
  why: string;
  /** The Pods the Service selects (the controller's replicas). */
  pods: PodInfo[];
}

const CONTROLLER_SELECTORS: [string, string][] = [
  ['app.kubernetes.io/name', 'ingress-nginx'],
  ['app', 'ingress-nginx'],
  ['app', 'nginx-ingress'],
];

/** Every Service that looks like an ingress-nginx controller's, best first. */
export function findControllers(cluster: Cluster): IngressController[] {
  const found: IngressController[] = [];
  for (const service of cluster.services) {
    if (service.name.endsWith('-admission') || (!webPort(service, 'http') && !webPort(service, 'https'))) continue;
    const selected = CONTROLLER_SELECTORS.find(([k, v]) => service.selector?.[k] === v);
    const named = /ingress/.test(service.name) && /controller/.test(service.name);
    if (!selected && !named) continue;
    const why = selected
      ? `its selector has ${selected[0]}=${selected[1]}, the label of ingress-nginx's Pods`
      : `its name ${service.name} is an ingress controller's`;
    const selector = service.selector ?? {};
    const pods = service.selector
      ? cluster.pods.filter((p) => p.namespace === service.namespace && Object.entries(selector).every(([k, v]) => p.labels[k] === v))
      : [];
    found.push({ service, why, pods });
  }
  return found.sort(
    (a, b) =>
      Number(!webPort(a.service, 'http')) - Number(!webPort(b.service, 'http')) ||
      compareText(`${a.service.namespace}/${a.service.name}`, `${b.service.namespace}/${b.service.name}`),
  );
}

/** The controller Service's port for plain HTTP (80, or named http) or TLS (443, or named https). */
export function webPort(service: Service, scheme: 'http' | 'https'): ServicePort | undefined {
  const number = scheme === 'http' ? 80 : 443;
  const tcp = service.ports.filter((p) => p.protocol === 'TCP');
  return tcp.find((p) => p.port === number) ?? tcp.find((p) => p.name === scheme);
}
