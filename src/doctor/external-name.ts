/**
 * ExternalName Services live in DNS only: a CNAME, no virtual IP, no endpoints, no port translation. What
 * people expect from a ClusterIP Service (a selector, a targetPort, an IP as target) does nothing here.
 */
import { parseIP } from '../net/ip.js';
import type { ServiceView } from './context.js';
import { finding, type Finding } from './finding.js';

export function checkExternalName(view: ServiceView): Finding[] {
  const svc = view.object.service;
  if (svc.type !== 'ExternalName') return [];
  const target = svc.externalName ?? '';
  const fqdn = `${svc.name}.${svc.namespace}.svc.cluster.local`;
  const isIP = parseIP(target.replace(/\.$/, ''), { sloppy: true }) !== undefined;
  const out: Finding[] = [
    finding(
      'I_EXTERNALNAME',
      'info',
      view.key,
      view.at(['spec', 'externalName']),
      `type ExternalName: cluster DNS answers ${fqdn} with a CNAME to ${target}, and that is all. There is no ClusterIP and kube-proxy writes no rules; the client resolves ${target} itself and connects to that address directly, on the port it chooses.`,
      // An IP as target has its own warning below; a host name meets name-based virtual hosting.
      isIP ? null : `HTTP and TLS clients still send the name they were given (${svc.name}) as Host header and SNI; if the outside server insists on ${target}, use that name in the URL`,
    ),
  ];
  if (isIP) {
    out.push(
      finding(
        'W_EXTERNALNAME_IP',
        'warning',
        view.key,
        view.at(['spec', 'externalName']),
        `externalName ${target} is an IP address, but DNS treats it as a host name made of digits: the CNAME points at a name that does not exist, so lookups of ${svc.name} fail.`,
        `for a fixed IP, use a Service without selector (type ClusterIP) and an Endpoints object named ${svc.name} listing ${target}, as in the notes' google-map example`,
      ),
    );
  }
  svc.ports.forEach((sp, i) => {
    if (sp.targetPort === sp.port) return;
    out.push(
      finding(
        'W_EXTERNALNAME_TARGET_PORT',
        'warning',
        view.key,
        view.object.targetPortAt[i] ?? sp.at,
        `targetPort ${sp.targetPort} has no effect: nothing proxies an ExternalName Service, so a client that connects to port ${sp.port} reaches ${target} on port ${sp.port}.`,
        `connect to the port the outside service listens on, or use a selector-less ClusterIP Service with an Endpoints object if you need ${sp.port} → ${sp.targetPort}`,
      ),
    );
  });
  if (svc.selector) {
    out.push(
      finding(
        'W_EXTERNALNAME_SELECTOR',
        'warning',
        view.key,
        view.object.selectorAt ?? view.at(['spec', 'selector']),
        'the selector is ignored: an ExternalName Service has no endpoints, its traffic never goes to the Pods the selector names.',
        'remove the selector, or make this a ClusterIP Service (remove type and externalName) if it should send to those Pods',
      ),
    );
  }
  return out;
}
