/**
 * A URL trace in plain words: the request, the controller found (or assumed), then one section per hop and
 * one line per outcome. Hop 2 is the packet emulator's own explanation, given already rendered.
 */
import { formatProbability } from '../emulate/evaluate.js';
import { describeLocation } from './route.js';
import type { UrlOutcome, UrlTraceResult } from './trace.js';

const ORIGIN_WORDS = { external: 'from outside the cluster', pod: 'from a Pod', node: 'from the node itself' } as const;

export function explainUrlTrace(result: UrlTraceResult, kubeProxyText: string | undefined): string {
  const { trace, route } = result;
  const lines: string[] = [`Request: GET ${trace.url} ${ORIGIN_WORDS[trace.from]}`];
  const controller = trace.controller;
  if (controller) {
    const pods = controller.pods.map((p) => `${p.name} (${p.ip ?? 'no IP'})`).join(', ') || 'none selected';
    lines.push(`Ingress controller: ingress-nginx behind Service ${controller.service} (${controller.why}); Pods: ${pods}`);
    if (controller.others.length) lines.push(`  also looks like a controller, not used: ${controller.others.join(', ')}`);
  } else {
    lines.push('Ingress controller: none in the manifests (no Service selecting app.kubernetes.io/name=ingress-nginx, none named *ingress*controller*)');
  }
  if (trace.assumption) lines.push(`  ${trace.assumption}`);

  lines.push('', "Hop 1 — the host's address");
  if ('error' in trace.entry) lines.push(`  ${trace.entry.error}`);
  else {
    for (const why of trace.entry.why) lines.push(`  ${why}`);
    lines.push(`  ⇒ tcp ${trace.entry.address}:${trace.entry.port}`);
  }

  lines.push('', "Hop 2 — kube-proxy's rules to a controller Pod");
  if (kubeProxyText === undefined) lines.push('  not traced: the manifests hold no controller Service');
  else lines.push(...kubeProxyText.trimEnd().split('\n').map((l) => (l ? `  │ ${l}` : '  │')));
  const reached = trace.reached;
  if (reached && kubeProxyText !== undefined) {
    lines.push(`  ⇒ ${formatProbability(reached.probability)} of the connections reach a controller Pod${reached.pods.length ? ` (${reached.pods.join(', ')})` : ''}`);
    const client = trace.kubeProxy?.packet.source;
    if (reached.sources.some((s) => s !== client)) {
      lines.push(`  the controller sees the client as ${reached.sources.join(' or ')}, not ${client ?? 'its address'} (masqueraded; externalTrafficPolicy: Local on the controller Service keeps it)`);
    }
  }

  lines.push('', `Hop 3 — ingress-nginx's rule for Host ${trace.request.host}, path ${route.path}`);
  for (const ignored of trace.routing.ignoredIngresses) lines.push(`  Ingress ${ignored.ingress} is not served: ${ignored.reason}`);
  for (const assumed of trace.routing.assumed) lines.push(`  ${assumed}`);
  lines.push(`  server ${route.host.server.name}: ${route.host.why}`);
  lines.push('  locations, as nginx tries them (exact ones, then prefixes longest first); ingress-nginx writes Exact p as');
  lines.push("  `= p`, Prefix p as `p/` plus `= p` (whole path elements), ImplementationSpecific p as `p` (a string prefix):");
  for (const check of route.match.checks) {
    lines.push(`    ${check.matched ? '✓' : '✗'} ${describeLocation(check.location).padEnd(16)} ${check.location.origin}: ${check.why}`);
  }
  for (const note of trace.routing.shadowed) lines.push(`  ${note}`);
  for (const note of route.uncertain) lines.push(`  uncertain: ${note}`);
  const location = route.match.location;
  lines.push(`  ⇒ location ${describeLocation(location)} (${location.origin})`);
  if (route.tls) lines.push(`  ${route.tls}`);
  if (route.redirect) lines.push(`  the host has TLS (spec.tls), so ingress-nginx answers plain HTTP with 308 Permanent Redirect to ${route.redirect} (annotation nginx.ingress.kubernetes.io/ssl-redirect: "false" turns that off)`);

  lines.push('', 'Hop 4 — the backend');
  const backend = route.backend;
  lines.push(`  ${backend.why}`);
  if (backend.kind === 'endpoints') {
    for (const e of trace.backend.kind === 'endpoints' ? trace.backend.endpoints : []) {
      lines.push(`    ${formatProbability(e.probability).padStart(7)}  ${e.address}${e.pod ? `  pod ${e.pod}` : ''}`);
    }
    if (backend.endpoints.length > 0) {
      lines.push('  The controller opens its own connection from its Pod to the endpoint address: no ClusterIP, so no kube-proxy DNAT on this leg.');
    }
  }

  lines.push('', trace.outcomes.length === 1 ? 'Outcome:' : 'Outcomes:');
  for (const outcome of trace.outcomes) lines.push(`  ${formatProbability(outcome.probability).padStart(7)}  ${outcomeText(outcome)}`);
  return `${lines.join('\n')}\n`;
}

function outcomeText(o: UrlOutcome): string {
  const via = 'controllerPods' in o && o.controllerPods.length ? ` (via ${o.controllerPods.join(', ')})` : '';
  switch (o.result) {
    case 'endpoint':
      return `answered by ${o.endpoint}${o.pod ? ` (pod ${o.pod})` : ''}${via}`;
    case 'redirect':
      return `308 redirect to ${o.location}${via}`;
    case 'status':
      return `${o.status} from ingress-nginx${via}: ${o.why}`;
    case 'external-name':
      return `proxied to ${o.target} outside the cluster${via}`;
    case 'not-reached':
      return `never reaches the controller: ${o.why}`;
    case 'no-controller':
      return o.why;
  }
}
