/**
 * A selector that selects nothing, and the labels that almost match: the most common reason a Service "does
 * not answer" is a typo in a label, a label the Pod template lacks, or Pods in another namespace.
 */
import type { PodObject } from '../model/objects.js';
import type { DoctorContext, ServiceView } from './context.js';
import { selectorMatches, selectorText } from './context.js';
import { finding, groupBy, listSome, type Finding } from './finding.js';

/** How one Pod's labels miss one selector entry. */
interface Miss {
  key: string;
  want: string;
  /** The Pod's value for the key; undefined when the Pod lacks the key. */
  has: string | undefined;
  /** A key of the Pod that differs from `key` only in case (`App` for `app`). */
  caseVariant?: string;
}

export function checkSelector(view: ServiceView, ctx: DoctorContext): Finding[] {
  const svc = view.object.service;
  const selector = svc.selector;
  if (!selector || svc.type === 'ExternalName' || (view.selected?.length ?? 0) > 0) return [];
  const at = view.object.selectorAt ?? view.at(['spec', 'selector']);
  if (ctx.pods.length === 0) {
    // A dump without Pods (kubectl get svc,endpointslices): the slices tell what the selector found.
    if (view.ports.some((p) => p.endpoints.length > 0)) return [];
    return [
      finding(
        'I_NO_PODS_IN_INPUT',
        'info',
        view.key,
        at,
        `the input holds no Pods, so whether selector ${selectorText(selector)} matches anything cannot be checked.`,
        'include the Pods: kubectl get svc,endpointslices,pods -n NAMESPACE -o yaml > dump.yaml',
      ),
    ];
  }
  const namespace = view.object.namespace;
  const effect = view.ports.some((p) => p.endpoints.length > 0)
    ? 'yet its EndpointSlices list endpoints (hand-written, or left from earlier Pods)'
    : 'so the Service has no endpoints';
  const lines = [`selector ${selectorText(selector)} matches no Pod in namespace ${namespace}, ${effect}.`];
  const near = nearestPods(selector, ctx.pods.filter((p) => p.namespace === namespace));
  for (const [description, pods] of near) lines.push(`Almost: ${podNames(pods)}: ${description}.`);
  const elsewhere = ctx.pods.filter((p) => p.namespace !== namespace && selectorMatches(selector, p.labels));
  if (elsewhere.length > 0) {
    const namespaces = [...new Set(elsewhere.map((p) => p.namespace))].join(', ');
    lines.push(`Pods in namespace ${namespaces} match (${podNames(elsewhere)}), but a Service selects only Pods of its own namespace.`);
  }
  const hint =
    near.length > 0 || elsewhere.length > 0
      ? `make the selector and the Pod labels agree (in a Deployment, the labels of spec.template)${elsewhere.length > 0 ? ", or create the Service in the Pods' namespace" : ''}; kubectl get pods --show-labels lists them`
      : `no Pod has labels close to the selector: check that the Pods exist (kubectl get pods -n ${namespace} --show-labels) and that the selector is the one their template sets`;
  return [finding('W_SELECTOR_NO_MATCH', 'warning', view.key, at, lines.join(' '), hint)];
}

/**
 * Pods whose labels miss the fewest selector entries, grouped by how they miss. A Pod counts as near when it
 * misses one entry, or fewer entries than the selector has (some of it matches); at most three groups.
 */
function nearestPods(selector: Record<string, string>, pods: readonly PodObject[]): [string, PodObject[]][] {
  const size = Object.keys(selector).length;
  const scored = pods.map((pod) => ({ pod, misses: missesOf(selector, pod.labels) }));
  const fewest = Math.min(...scored.map((s) => s.misses.length));
  if (!(fewest === 1 || fewest < size)) return [];
  const nearest = scored.filter((s) => s.misses.length === fewest);
  const groups = groupBy(nearest, (s) => s.misses.map(describeMiss).join('; '));
  return [...groups].slice(0, 3).map(([description, group]) => [description, group.map((s) => s.pod)]);
}

function missesOf(selector: Record<string, string>, labels: Record<string, string>): Miss[] {
  const misses: Miss[] = [];
  for (const [key, want] of Object.entries(selector)) {
    if (labels[key] === want) continue;
    const caseVariant = Object.keys(labels).find((k) => k !== key && k.toLowerCase() === key.toLowerCase());
    misses.push({ key, want, has: labels[key], ...(caseVariant !== undefined && labels[key] === undefined ? { caseVariant } : {}) });
  }
  return misses;
}

function describeMiss(miss: Miss): string {
  if (miss.has !== undefined) return `${miss.key}=${miss.has} where the selector wants ${miss.key}=${miss.want}`;
  if (miss.caseVariant !== undefined) return `no label ${miss.key}, but ${miss.caseVariant} (label keys are case-sensitive)`;
  return `no label ${miss.key} (the selector wants ${miss.key}=${miss.want})`;
}

function podNames(pods: readonly PodObject[]): string {
  return `${pods.length === 1 ? 'Pod' : 'Pods'} ${listSome(pods.map((p) => p.name))}`;
}
