/** `--verbose` notes: what the input held that kube-proxy ignores, and why. */
import type { Cluster } from '../cluster/types.js';
import type { SkippedObject } from '../model/load.js';

export function explainSkipped(skipped: readonly SkippedObject[], cluster: Cluster): string {
  const lines: string[] = [];
  const kinds = new Map<string, number>();
  for (const object of skipped) kinds.set(`${object.apiVersion} ${object.kind}`, (kinds.get(`${object.apiVersion} ${object.kind}`) ?? 0) + 1);
  for (const [kind, count] of [...kinds].sort()) {
    lines.push(`kproxy: skipped ${count} ${kind} object${count === 1 ? '' : 's'} (kube-proxy does not read this kind)`);
  }
  for (const service of cluster.services) {
    const name = `${service.namespace}/${service.name}`;
    if (service.type === 'ExternalName') {
      lines.push(`kproxy: ${name}: ExternalName Service, no rules: cluster DNS answers with a CNAME to ${service.externalName ?? '?'}`);
    } else if (service.clusterIP === 'None') {
      lines.push(`kproxy: ${name}: headless Service (clusterIP: None), no rules: DNS answers with the pod IPs directly`);
    } else if (service.clusterIP === '') {
      lines.push(`kproxy: ${name}: no clusterIP assigned, no rules`);
    }
  }
  return lines.map((line) => `${line}\n`).join('');
}
