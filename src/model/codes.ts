/**
 * Every diagnostic code the input side (model/ and cluster/, and the flow tables of emulate/flows.ts) emits, one line each. Codes are stable: tests and
 * users match on them, so add new ones rather than changing the meaning of an existing one.
 */
export const MODEL_CODES = {
  // Reading the text.
  E_BINARY: 'input is not UTF-8 text (NUL or other control bytes, invalid UTF-8)',
  E_YAML_SYNTAX: 'YAML or JSON that does not parse (includes JSON trailing garbage, duplicate keys, an alias without anchor, absurd nesting)',
  E_YAML_ALIASES: 'too many YAML alias expansions (alias bomb); the document is refused',
  // Object shape.
  E_FIELD: 'a field has the wrong type, a value outside its enum, or a required field is missing',
  E_API_VERSION: 'a kind kproxy reads (Service, EndpointSlice, Endpoints, Pod, Node, Ingress) with an apiVersion it does not',
  E_NAME: 'an object name, namespace, label, node or host name that the API server would reject',
  E_INVALID_IP: 'an IP address or CIDR that does not parse, or is of the wrong family',
  E_ADDRESS_TYPE: "an EndpointSlice address that does not match the slice's addressType",
  E_PORT_RANGE: 'a port number outside 1..65535 (nodePort and healthCheckNodePort: 0..65535)',
  E_PROTOCOL: 'a protocol other than TCP, UDP or SCTP',
  E_PORT_NAME: 'a port name that is not an IANA_SVC_NAME, or a missing name in a multi-port Service/Endpoints',
  E_DUPLICATE_PORT: 'two ports with the same name, the same (port, protocol) or the same (nodePort, protocol)',
  E_MISSING_PORTS: 'a Service without spec.ports that is neither headless nor ExternalName',
  E_DUPLICATE_OBJECT: 'the same kind/namespace/name twice in the input',
  E_CONFIG_KEY: 'an unknown key in a node config, a KubeProxyConfiguration file or a flow table',
  E_INGRESS_PATH: 'an Ingress path that is not absolute, or an Exact/Prefix path with //, /./, /../ or an encoded slash',
  E_INGRESS_BACKEND: 'an Ingress backend with not exactly one of service/resource, or a service port with not exactly one of number/name',
  // Legal but suspicious.
  W_IP_LEADING_ZEROS: 'an IPv4 address with leading zeros; accepted (kube-proxy parses it sloppily), printed canonically',
  W_CLUSTER_IP_UNSET: 'a Service without spec.clusterIP: the API server would allocate one, kube-proxy writes no rules without it',
  W_PORT_ZERO: 'an EndpointSlice port 0; the API server rejects it and kube-proxy skips the port',
  W_SELECTOR_NO_MATCH: "a Service selector that matches no Pod in the Service's namespace (the Service has no endpoints)",
  W_NAMED_PORT_UNRESOLVED: 'a named targetPort that no selected Pod defines (with that protocol)',
  W_ORPHAN_ENDPOINTS: 'Endpoints or an EndpointSlice that belongs to no Service of the input',
  W_SELECTOR_AND_ENDPOINTS: 'a Service with a selector and a hand-written Endpoints; the Endpoints are ignored',
  W_DEPRECATED_API: 'an Ingress in extensions/v1beta1 or networking.k8s.io/v1beta1 (removed in Kubernetes 1.22); read as networking.k8s.io/v1',
  W_INGRESS_NO_SERVICE: 'an Ingress backend names a Service that is not in the input (ingress-nginx answers 503)',
  W_INGRESS_NO_PORT: 'an Ingress backend names a port its Service does not have (ingress-nginx answers 503)',
} as const;

export type ModelCode = keyof typeof MODEL_CODES;
