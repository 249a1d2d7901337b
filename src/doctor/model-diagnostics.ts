/**
 * The model's own diagnostics (load errors, control-plane warnings) as findings: shown under the Service they
 * concern, with a plain explanation and a hint for the ones learners meet. A Service the model refused is not
 * checked further, but its errors are explained here instead of stopping doctor.
 */
import type { Diagnostic } from '../diag/diagnostic.js';
import type { ModelCode } from '../model/codes.js';
import type { DoctorContext } from './context.js';
import { finding, type Finding } from './finding.js';

/** Codes doctor derives itself, with more detail (near-miss labels, declared ports): the model's copy is dropped. */
const DERIVED_BY_DOCTOR: ReadonlySet<string> = new Set<ModelCode>(['W_SELECTOR_NO_MATCH', 'W_NAMED_PORT_UNRESOLVED']);

interface Explanation {
  code: ModelCode;
  /** Matched against the message, which starts with the field path (model/issues.ts formatPath). */
  message: RegExp;
  /** Sentences appended to the model's message. */
  explanation: string;
  hint: string;
}

const EXPLANATIONS: readonly Explanation[] = [
  {
    code: 'E_FIELD',
    message: /^spec\.sessionAffinityConfig\.clientIP\.timeoutSeconds: /,
    explanation:
      'ClientIP session affinity keeps a client on the same Pod for at most 86400 seconds (one day): the API server refuses a longer (or zero) timeout, so this Service is not created at all. kube-proxy would have written the timeout into its affinity rules (`-m recent --seconds` in iptables mode, the affinity set\'s timeout in nftables mode).',
    hint: 'use a timeoutSeconds from 1 to 86400, or leave sessionAffinityConfig out for the default of 10800 (3 hours)',
  },
  {
    code: 'E_FIELD',
    message: /^spec\.sessionAffinityConfig: must not be set when sessionAffinity is None/,
    explanation: 'The affinity timeout only means something with sessionAffinity: ClientIP.',
    hint: 'add sessionAffinity: ClientIP, or remove sessionAffinityConfig',
  },
  {
    code: 'E_FIELD',
    message: /^spec\.clusterIP: must not be set for type ExternalName/,
    explanation:
      'An ExternalName Service has no ClusterIP: cluster DNS answers its name with a CNAME to spec.externalName and nothing proxies its traffic, so there is no virtual IP to give it. The API server refuses this Service.',
    hint: "remove clusterIP; for a virtual IP in front of outside addresses use a ClusterIP Service without selector plus an Endpoints object of the same name (the notes' google-map example)",
  },
  {
    code: 'E_FIELD',
    message: /^spec\.ports\[\d+\]\.nodePort: may not be used when type is/,
    explanation: 'A nodePort opens the port on every node, which only NodePort and LoadBalancer Services do.',
    hint: 'set type: NodePort (or LoadBalancer), or remove nodePort',
  },
  {
    code: 'E_FIELD',
    message: /^spec\.clusterIP: may not be None for type/,
    explanation: 'A headless Service has no virtual IP, so there is nothing for a NodePort or a load balancer to forward to.',
    hint: 'remove clusterIP: None (let the API server allocate one), or use type ClusterIP for a headless Service',
  },
  {
    code: 'E_PORT_NAME',
    message: /every port of a multi-port Service must have a name/,
    explanation: "With several ports, kube-proxy pairs each Service port with the endpoints' port of the same name, so every port needs one.",
    hint: 'name each port (http, https, metrics, ...)',
  },
];

const HINTS: Partial<Record<ModelCode, string>> = {
  W_ORPHAN_ENDPOINTS:
    'an Endpoints object must have exactly the name and namespace of its Service; an EndpointSlice needs the label kubernetes.io/service-name: SERVICE',
  W_SELECTOR_AND_ENDPOINTS:
    "to send to addresses of your own, remove the selector (the notes' google-map example); otherwise delete these Endpoints and let the controller fill them from the Pods",
  W_CLUSTER_IP_UNSET: 'take the Service as the cluster has it (kubectl get svc NAME -o yaml): it holds the allocated clusterIP',
};

export function fromModelDiagnostics(diagnostics: readonly Diagnostic[], ctx: DoctorContext): Finding[] {
  return diagnostics
    .filter((d) => !DERIVED_BY_DOCTOR.has(d.code))
    .map((d) => {
      const known = EXPLANATIONS.find((e) => e.code === d.code && e.message.test(d.message));
      const message = known ? `${d.message}. ${known.explanation}` : d.message;
      const hint = known?.hint ?? HINTS[d.code as ModelCode] ?? null;
      return finding(d.code as ModelCode, d.severity, serviceOf(d, ctx), d, message, hint);
    });
}

/** The Service a diagnostic concerns: the Service it is in, or the one its Endpoints/EndpointSlice belongs to. */
function serviceOf(d: Diagnostic, ctx: DoctorContext): string | null {
  if (d.line === 0) return null;
  const owner = ctx.index.enclosing(d);
  if (!owner) return null;
  const name = owner.kind === 'Service' || owner.kind === 'Endpoints' ? owner.name : owner.kind === 'EndpointSlice' ? owner.serviceName : undefined;
  if (name === undefined) return null;
  const found = ctx.index.find('Service', owner.namespace, name);
  return found ? `${found.namespace}/${found.name}` : null;
}
