/**
 * ClusterIPs written by hand (copied manifests, made-up examples): two Services with one address, or an
 * address outside the node's service CIDRs. The API server allocates neither.
 */
import type { IP } from '../net/ip.js';
import { cidrContains, parseCIDR, parseIP } from '../net/ip.js';
import type { DoctorContext, ServiceView } from './context.js';
import { finding, groupBy, listSome, type Finding } from './finding.js';

/** Each written cluster IP of each Service, parsed, with the field it is in. */
interface ClusterIPUse {
  view: ServiceView;
  ip: IP;
  field: (string | number)[];
}

export function checkClusterIPs(ctx: DoctorContext): Finding[] {
  const uses = ctx.services.flatMap(clusterIPsOf);
  const out: Finding[] = [];
  for (const [text, list] of groupBy(uses, (u) => u.ip.text)) {
    const services = [...new Set(list.map((u) => u.view.key))];
    if (services.length < 2) continue;
    for (const { view, field } of list) {
      out.push(
        finding(
          'E_CLUSTER_IP_COLLISION',
          'error',
          view.key,
          view.at(field),
          `clusterIP ${text} is also Service ${listSome(services.filter((s) => s !== view.key))}'s. A ClusterIP belongs to one Service: the API server refuses the second, and on a port both use only one of them could get the traffic.`,
          'leave clusterIP out and let the API server allocate a free one (kubectl get svc shows it), or pick an unused address',
        ),
      );
    }
  }
  const ranges = ctx.config.serviceCIDRs.flatMap((text) => parseCIDR(text, { sloppy: true }) ?? []);
  if (ranges.length === 0) return out;
  for (const { view, ip, field } of uses) {
    if (ranges.some((r) => cidrContains(r, ip))) continue;
    out.push(
      finding(
        'W_CLUSTER_IP_OUTSIDE_RANGE',
        'warning',
        view.key,
        view.at(field),
        `clusterIP ${ip.text} is outside the service CIDR${ranges.length === 1 ? '' : 's'} of this cluster (${ranges.map((r) => r.text).join(', ')}, node settings): the API server only hands out and accepts addresses of its --service-cluster-ip-range.`,
        'leave clusterIP out and let the API server allocate one, or set serviceCIDRs in node.yaml to the cluster\'s real range',
      ),
    );
  }
  return out;
}

function clusterIPsOf(view: ServiceView): ClusterIPUse[] {
  const svc = view.object.service;
  const written: [string, (string | number)[]][] =
    svc.clusterIPs.length > 0 ? svc.clusterIPs.map((text, i) => [text, ['spec', 'clusterIPs', i]]) : [[svc.clusterIP, ['spec', 'clusterIP']]];
  return written.flatMap(([text, field]) => {
    const ip = parseIP(text, { sloppy: true });
    return ip ? [{ view, ip, field }] : [];
  });
}
