/**
 * targetPort against the ports the selected Pods declare. A named targetPort must be declared (the endpoint
 * controller resolves the name in each Pod); a number need not be (declaring is informational), but a number
 * nobody declares is often a typo for one they do.
 */
import type { ServicePort } from '../cluster/types.js';
import type { PodObject } from '../model/objects.js';
import type { ServiceView } from './context.js';
import { finding, listSome, type Finding } from './finding.js';

export function checkTargetPorts(view: ServiceView): Finding[] {
  const pods = view.selected ?? [];
  if (pods.length === 0 || view.object.service.type === 'ExternalName') return [];
  const declared = declaredPorts(pods);
  const declaredText = declared.length > 0 ? listSome(declared.map(describePort), 4) : '';
  const out: Finding[] = [];
  view.object.service.ports.forEach((sp, i) => {
    const at = view.object.targetPortAt[i] ?? sp.at;
    const target = sp.targetPort;
    const forPort = `port ${sp.port}${sp.name ? ` (${sp.name})` : ''}`;
    if (typeof target === 'string') {
      if (pods.some((p) => hasPort(p, (c) => c.name === target && c.protocol === sp.protocol))) return;
      const otherProtocol = declared.find((c) => c.name === target);
      const what = otherProtocol
        ? `the selected Pods name ${otherProtocol.protocol} port ${otherProtocol.port} ${target}, but this Service port is ${sp.protocol}`
        : `no container of the selected Pods (${listSome(pods.map((p) => p.name))}) has a ${sp.protocol} port named ${target}${declaredText ? `; they declare ${declaredText}` : '; they declare no ports at all'}`;
      out.push(
        finding(
          'W_NAMED_PORT_UNRESOLVED',
          'warning',
          view.key,
          at,
          `targetPort ${target} of ${forPort} is a name, and ${what}. The endpoint controller cannot turn the name into a number, so ${forPort} gets no endpoints.`,
          otherProtocol
            ? `make the protocols agree (spec.ports[${i}].protocol or the container port's protocol)`
            : `name the container port ${target} in the Pod template (ports: - name: ${target}, containerPort: N), or set targetPort to a declared name or number`,
        ),
      );
      return;
    }
    if (pods.some((p) => hasPort(p, (c) => c.port === target && c.protocol === sp.protocol))) return;
    const sameNumber = declared.find((c) => c.port === target);
    const what = sameNumber
      ? `they declare ${target} for ${sameNumber.protocol}, not ${sp.protocol}`
      : declaredText
        ? `they declare ${declaredText}`
        : 'they declare no ports at all';
    out.push(
      finding(
        'W_TARGET_PORT_UNDECLARED',
        'warning',
        view.key,
        at,
        `${forPort} forwards to targetPort ${target}/${sp.protocol}, which no container of the selected Pods declares (${what}). Declaring container ports is optional, so this works if the process listens on ${target}; if it listens elsewhere, connections reach the Pod and are refused there.`,
        guessHint(sp, declared),
      ),
    );
  });
  return out;
}

interface DeclaredPort {
  name: string;
  port: number;
  protocol: ServicePort['protocol'];
}

/** The distinct container ports of the Pods, in the order first seen. */
function declaredPorts(pods: readonly PodObject[]): DeclaredPort[] {
  const seen = new Map<string, DeclaredPort>();
  for (const pod of pods) for (const c of pod.containerPorts) seen.set(`${c.name}/${c.port}/${c.protocol}`, c);
  return [...seen.values()];
}

function hasPort(pod: PodObject, test: (c: DeclaredPort) => boolean): boolean {
  return pod.containerPorts.some(test);
}

function describePort(c: DeclaredPort): string {
  return `${c.port}/${c.protocol}${c.name ? ` (${c.name})` : ''}`;
}

function guessHint(sp: ServicePort, declared: readonly DeclaredPort[]): string {
  const candidates = declared.filter((c) => c.protocol === sp.protocol);
  if (candidates.length === 1) {
    const only = candidates[0] as DeclaredPort;
    return `if the container listens on ${only.port}, set targetPort: ${only.name || only.port}`;
  }
  return `check which port the process listens on (kubectl exec POD -- ss -ltn) and set targetPort to it, or declare it in the Pod template`;
}
