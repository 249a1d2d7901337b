/**
 * "I pinged the Service and nothing answers": the echo request, traced by the emulator through the rules of
 * both proxy modes (the CLI runs the traces; this explains them). A Service address answers nothing in
 * either mode, but the client sees something different: iptables mode lets the echo request leave the node
 * untranslated (ping times out), nftables mode rejects it at once in cluster-ips-check.
 */
import type { Position } from '../diag/diagnostic.js';
import type { PathOutcome, TraceDetail } from '../emulate/trace.js';
import type { Resolution } from '../emulate/resolve.js';
import { parseIP } from '../net/ip.js';
import type { DoctorContext, ServiceView } from './context.js';
import { finding, groupBy, listSome, type Finding } from './finding.js';

export interface PingTrace {
  mode: 'iptables' | 'nftables';
  detail: TraceDetail;
}

/** A client's ping as the CLI resolved and traced it, or why it could not. */
export type PingProbe =
  | { target: string; resolution: Resolution; source: string; traces: PingTrace[] }
  | { target: string; unavailable: string };

/** Findings that concern no field of the input (a command-line request) carry this file and line 0. */
export const COMMAND_LINE: Position = { file: '<command line>', line: 0, col: 0 };

export function explainPing(probe: PingProbe, ctx: DoctorContext): Finding {
  if ('unavailable' in probe) {
    return finding('I_PING_UNAVAILABLE', 'info', null, COMMAND_LINE, `ping ${probe.target} was not traced: ${probe.unavailable}.`, 'fix the errors above, then ask again');
  }
  const { resolution, traces } = probe;
  const outcomes = (vip: boolean) => describeOutcomes(traces, vip);
  const from = `ping ${probe.target} from ${probe.source}`;
  switch (resolution.kind) {
    case 'headless':
      return serviceNote(
        ctx,
        resolution.service,
        ['spec', 'clusterIP'],
        `${resolution.fqdn} is headless: DNS answers with the Pod IPs (${listSome(resolution.ips) || 'none'}), so ping goes to a Pod directly and kube-proxy is not involved: ${outcomes(false) || 'there is no address to ping'}.`,
      );
    case 'externalName':
      return serviceNote(
        ctx,
        resolution.service,
        ['spec', 'externalName'],
        `${resolution.fqdn} is an ExternalName Service: DNS answers with a CNAME to ${resolution.externalName}, and ping goes to that host's address outside the cluster; kube-proxy is not involved. Whether it answers depends on that host (many drop ICMP).`,
      );
    case 'unknown':
      return finding('I_PING_UNAVAILABLE', 'info', null, COMMAND_LINE, `ping ${probe.target}: ${resolution.message}.`);
    case 'ip':
    case 'clusterIP': {
      const ip = resolution.ip;
      const vip = findServiceAddress(ctx, ip);
      if (!vip) {
        const pod = ctx.pods.find((p) => p.podIPs.some((a) => sameIP(a, ip)));
        return finding(
          'I_PING',
          'info',
          null,
          COMMAND_LINE,
          `${from}: ${ip} is not a Service address${pod ? ` (it is Pod ${pod.namespace}/${pod.name})` : ''}, so kube-proxy's rules do not translate it: ${outcomes(false)}.`,
        );
      }
      const { view, field, what } = vip;
      const name = resolution.kind === 'clusterIP' ? ` (DNS: ${probe.target} → ${resolution.fqdn} → ${ip})` : '';
      const ports = view.object.service.ports.map((p) => `${p.protocol} ${p.port}`);
      const pods = view.ports.flatMap((p) => p.endpoints.filter((e) => e.ready).map((e) => e.ip));
      const firstPort = view.object.service.ports[0];
      return finding(
        'W_PING_SERVICE_IP',
        'warning',
        view.key,
        view.at(field),
        `${from}${name}: ${ip} is ${what} of Service ${view.key}. No interface and no Pod has that address; kube-proxy only translates its ports (${listSome(ports)}) to Pods, and an ICMP echo request has no port, so no Pod ever sees it: ${outcomes(true)}. This says nothing about whether the Service works.`,
        [
          firstPort ? `test a port instead: from a Pod, nc -zv ${ip} ${firstPort.port}${firstPort.protocol === 'TCP' ? ` or curl http://${view.object.name}.${view.object.namespace}:${firstPort.port}/` : ''} (kproxy trace … --dst ${ip} --dport ${firstPort.port} shows that path)` : '',
          pods.length > 0 ? `to see that a Pod is alive, ping the Pod's own IP (${listSome([...new Set(pods)], 2)})` : '',
        ]
          .filter((s) => s !== '')
          .join('; '),
      );
    }
  }
}

/** `in iptables mode …; in nftables mode …`, or `in iptables and nftables mode …` when both say the same. */
function describeOutcomes(traces: readonly PingTrace[], vip: boolean): string {
  const byText = groupBy(traces, (t) => describeOutcome(t.detail.paths[0], vip));
  return [...byText].map(([text, same]) => `in ${same.map((t) => t.mode).join(' and ')} mode ${text}`).join('; ');
}

/**
 * What happens to the echo request, from the emulator's first (for ping: only) path. `vip`: the destination
 * is a Service address, which nothing beyond the node answers.
 */
function describeOutcome(path: PathOutcome | undefined, vip: boolean): string {
  if (!path) return 'the packet could not be traced';
  switch (path.result) {
    case 'forwarded': {
      const out = `leaves the node${path.route ? ` on ${path.route.iface}` : ''}`;
      if (vip) return `it is not translated and ${out}, where nothing answers: ping times out`;
      const pod = path.route?.pod?.name ? ` to Pod ${path.route.pod.name}${path.route.via ? ` on ${path.route.via}` : ''}` : '';
      return `it ${out}${pod}, which answers if it is up`;
    }
    case 'rejected':
      return `it is ${path.endReason}`;
    case 'dropped':
      return `it is dropped (${path.endReason}): ping times out`;
    case 'unreachable':
      return `it is unreachable (${path.endReason})`;
    case 'delivered':
      return `it is delivered to ${path.finalDestination}, which answers`;
    case 'local':
      return 'the node itself answers';
  }
}

interface ServiceAddress {
  view: ServiceView;
  /** The field that holds the address. */
  field: (string | number)[];
  what: string;
}

function findServiceAddress(ctx: DoctorContext, ip: string): ServiceAddress | undefined {
  for (const view of ctx.services) {
    const svc = view.object.service;
    if (sameIP(svc.clusterIP, ip)) return { view, field: ['spec', 'clusterIP'], what: 'the ClusterIP' };
    const dual = svc.clusterIPs.findIndex((a) => sameIP(a, ip));
    if (dual >= 0) return { view, field: ['spec', 'clusterIPs', dual], what: 'a ClusterIP' };
    const external = svc.externalIPs.findIndex((a) => sameIP(a, ip));
    if (external >= 0) return { view, field: ['spec', 'externalIPs', external], what: 'an external IP' };
    const ingress = svc.loadBalancerIngress.findIndex((ing) => ing.ip !== undefined && sameIP(ing.ip, ip));
    if (ingress >= 0) return { view, field: ['status', 'loadBalancer', 'ingress', ingress, 'ip'], what: 'the load-balancer IP' };
  }
  return undefined;
}

/** An I_PING note at a field of the Service the name resolved to. */
function serviceNote(ctx: DoctorContext, service: { namespace: string; name: string }, field: string[], message: string): Finding {
  const view = ctx.services.find((v) => v.object.namespace === service.namespace && v.object.name === service.name);
  return finding('I_PING', 'info', view?.key ?? null, view?.at(field) ?? COMMAND_LINE, message);
}

function sameIP(a: string, b: string): boolean {
  const x = parseIP(a, { sloppy: true });
  const y = parseIP(b, { sloppy: true });
  return x !== undefined && y !== undefined && x.family === y.family && x.value === y.value;
}
