/**
 * The name syntaxes the API server enforces (k8s.io/apimachinery/pkg/util/validation). Enforcing them means
 * a name can never carry quotes, spaces or anything else into rule text.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Namespaces, Service-port names in slices, hostnames. */
export function isDNS1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

/** Service names: a label that starts with a letter (it becomes a DNS name and an env var prefix). */
export function isDNS1035Label(s: string): boolean {
  return s.length <= 63 && DNS1035_LABEL.test(s);
}

/** Names of EndpointSlices, Endpoints, Pods and Nodes; ExternalName targets. */
export function isDNS1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

export function isLabelValue(s: string): boolean {
  return s.length <= 63 && LABEL_VALUE.test(s);
}

/** Label keys: optional DNS-subdomain prefix and `/`, then a name of at most 63 characters. */
export function isLabelKey(s: string): boolean {
  const slash = s.lastIndexOf('/');
  const prefix = slash >= 0 ? s.slice(0, slash) : undefined;
  const name = slash >= 0 ? s.slice(slash + 1) : s;
  if (prefix !== undefined && (prefix.length === 0 || !isDNS1123Subdomain(prefix))) return false;
  return name.length <= 63 && QUALIFIED_NAME.test(name);
}

/** IANA service names (RFC 6335): at most 15 characters, lowercase, a letter somewhere, no `--`. */
export function isIanaSvcName(s: string): boolean {
  return s.length <= 15 && IANA_SVC_NAME.test(s) && /[a-z]/.test(s) && !s.includes('--');
}

/** Linux interface names as kube-proxy writes them after `-i`: short, no spaces, quotes or slashes. */
export function isInterfaceName(s: string): boolean {
  return /^[A-Za-z0-9_.:@-]{1,15}$/.test(s);
}
