/**
 * How a Service is reached from outside: nodePorts (range, collisions between Services) and load-balancer
 * addresses (pending, host names only).
 */
import type { DoctorContext, ServiceView } from './context.js';
import { finding, groupBy, listSome, type Finding } from './finding.js';

/** The API server's default --service-node-port-range. */
const NODE_PORT_MIN = 30000;
const NODE_PORT_MAX = 32767;

export function checkExposure(view: ServiceView): Finding[] {
  const svc = view.object.service;
  const out: Finding[] = [];
  svc.ports.forEach((sp, i) => {
    if (sp.nodePort === 0 && svc.type === 'NodePort') {
      out.push(
        finding(
          'W_NODEPORT_UNSET',
          'warning',
          view.key,
          sp.at,
          `type NodePort, but port ${sp.port} has no nodePort: the API server would pick a free one in ${NODE_PORT_MIN}-${NODE_PORT_MAX} when the Service is created. These manifests do not say which, so kproxy's rules (compile, trace) have no NodePort for it.`,
          `take the Service as the cluster has it (kubectl get svc ${svc.name} -o yaml), or write the nodePort you want`,
        ),
      );
    }
    if (sp.nodePort === 0 || (sp.nodePort >= NODE_PORT_MIN && sp.nodePort <= NODE_PORT_MAX)) return;
    out.push(
      finding(
        'W_NODEPORT_RANGE',
        'warning',
        view.key,
        view.at(['spec', 'ports', i, 'nodePort']),
        `nodePort ${sp.nodePort} is outside ${NODE_PORT_MIN}-${NODE_PORT_MAX}, the API server's default --service-node-port-range: it refuses this Service unless the cluster was set up with a range that contains ${sp.nodePort}. kube-proxy itself would open the port on every node.`,
        `pick a nodePort in ${NODE_PORT_MIN}-${NODE_PORT_MAX}, or leave it out and let the API server choose a free one (kubectl get svc ${svc.name} shows it)`,
      ),
    );
  });
  if (svc.type !== 'LoadBalancer') return out;
  const ips = svc.loadBalancerIngress.filter((ing) => ing.ip);
  // kube-proxy filters only traffic to ingress IPs (no IP yet: nothing to filter).
  if (svc.loadBalancerSourceRanges.length > 0 && ips.length > 0) {
    out.push(
      finding(
        'I_LB_SOURCE_RANGES',
        'info',
        view.key,
        view.at(['spec', 'loadBalancerSourceRanges']),
        `loadBalancerSourceRanges: only clients in ${listSome(svc.loadBalancerSourceRanges.map((r) => r.trim()), 4)} reach the Service through its load-balancer IP; kube-proxy drops the others' packets to that IP on every node. Its ClusterIP and nodePorts are not filtered.`,
        'a client that times out on the load-balancer IP may simply be outside these ranges',
      ),
    );
  }
  const hostnames = svc.loadBalancerIngress.flatMap((ing) => (ing.hostname && !ing.ip ? [ing.hostname] : []));
  const nodePorts = svc.ports.filter((p) => p.nodePort !== 0).map((p) => p.nodePort);
  const meanwhile = nodePorts.length > 0 ? `its nodePort${nodePorts.length === 1 ? '' : 's'} ${nodePorts.join(', ')} on every node and ` : '';
  if (ips.length === 0 && hostnames.length === 0) {
    out.push(
      finding(
        'W_LB_PENDING',
        'warning',
        view.key,
        view.at(['spec', 'type']),
        `type LoadBalancer, but status.loadBalancer.ingress is empty: no load-balancer controller has given the Service an address yet (kubectl get svc shows EXTERNAL-IP <pending>). Until one does, it is reachable through ${meanwhile}its ClusterIP only.`,
        'on a cloud, kubectl describe svc ' + svc.name + " shows the cloud controller's events; on bare metal, kind or minikube there is no controller unless you install one (MetalLB, cloud-provider-kind, minikube tunnel), or use type NodePort",
      ),
    );
  } else if (ips.length === 0) {
    out.push(
      finding(
        'I_LB_HOSTNAME',
        'info',
        view.key,
        view.at(['status', 'loadBalancer', 'ingress']),
        `the load balancer is known by host name only (${listSome(hostnames)}). kube-proxy writes rules for ingress IPs only; traffic to that name goes to the cloud load balancer, which forwards it to ${meanwhile || 'the nodes and '}the Pods from there.`,
      ),
    );
  }
  return out;
}

/** Two Services with the same nodePort and protocol: the API server allocates a nodePort once. */
export function checkNodePortCollisions(ctx: DoctorContext): Finding[] {
  const uses = ctx.services.flatMap((view) => view.object.service.ports.flatMap((sp, index) => (sp.nodePort === 0 ? [] : [{ view, index, key: `${sp.nodePort}/${sp.protocol}` }])));
  const users = groupBy(uses, (u) => u.key);
  const out: Finding[] = [];
  for (const [key, list] of users) {
    const services = new Set(list.map((u) => u.view.key));
    if (services.size < 2) continue; // the same Service twice is the model's E_DUPLICATE_PORT
    for (const { view, index } of list) {
      const others = [...services].filter((s) => s !== view.key);
      out.push(
        finding(
          'E_NODEPORT_COLLISION',
          'error',
          view.key,
          view.at(['spec', 'ports', index, 'nodePort']),
          `nodePort ${key} is also used by Service ${listSome(others)}. A nodePort belongs to one Service in the whole cluster: the API server refuses the second one, and a node cannot send one port to two Services.`,
          'give one of them another nodePort, or leave nodePort out so the API server picks a free one',
        ),
      );
    }
  }
  return out;
}
