/**
 * The codes `kproxy doctor` adds to the model's (model/codes.ts, which doctor reuses for the same problems:
 * W_SELECTOR_NO_MATCH, W_NAMED_PORT_UNRESOLVED, W_SELECTOR_AND_ENDPOINTS, ...). Severity says what the
 * problem does to the Service: error = some or all of its traffic cannot work; warning = it works, but not
 * the way one probably expects (or not from everywhere); info = an explanation of a Service that works as designed.
 * Codes are stable: tests and tools match on them.
 */
export const DOCTOR_CODES = {
  // The Service does not work (exit code 1).
  E_NO_ENDPOINTS: 'a Service port with no endpoints at all: clients are refused at once (or, headless, DNS has no address)',
  E_NO_READY_ENDPOINTS: 'a Service port whose endpoints are all not ready: kube-proxy sends nothing to them',
  E_NODEPORT_COLLISION: 'a nodePort that another Service already uses with the same protocol',
  E_CLUSTER_IP_COLLISION: 'a clusterIP that another Service has too',
  // It works, but not as one expects, or not from everywhere.
  W_TARGET_PORT_UNDECLARED: 'a numeric targetPort that no container of the selected Pods declares (works only if the process listens there)',
  W_POD_NOT_READY: 'a selected Pod (or endpoint) that is not ready: it gets no new connections',
  W_POD_NOT_RUNNING: 'a selected Pod without an IP, or finished (Succeeded/Failed): it is not an endpoint',
  W_ONLY_TERMINATING_ENDPOINTS: 'no endpoint of a port is ready, some are terminating but serving: kube-proxy uses those until they are gone',
  W_ETP_LOCAL_NO_LOCAL_ENDPOINT: 'externalTrafficPolicy Local and no ready endpoint on this node: external traffic arriving here is dropped',
  W_ITP_LOCAL_NO_LOCAL_ENDPOINT: 'internalTrafficPolicy Local and no ready endpoint on this node: ClusterIP traffic from here is dropped',
  W_NODEPORT_UNSET: 'a NodePort Service port without nodePort: the API server would allocate one, the manifests do not say which',
  W_NODEPORT_RANGE: "a nodePort outside the API server's default range 30000-32767",
  W_CLUSTER_IP_OUTSIDE_RANGE: "a clusterIP outside the node settings' serviceCIDRs (the API server's --service-cluster-ip-range)",
  W_LB_PENDING: 'a LoadBalancer Service with no status.loadBalancer.ingress yet (EXTERNAL-IP <pending>)',
  W_EXTERNALNAME_TARGET_PORT: 'an ExternalName Service whose targetPort differs from its port: nothing translates ports for it',
  W_EXTERNALNAME_SELECTOR: 'an ExternalName Service with a selector: the selector is ignored',
  W_EXTERNALNAME_IP: 'an ExternalName that is an IP address: DNS takes it as a name, the CNAME does not resolve',
  W_PING_SERVICE_IP: 'a client pings a Service address (ClusterIP, external IP, load-balancer IP): no Pod ever answers',
  // Explanations.
  I_NO_PODS_IN_INPUT: 'the input holds no Pods, so a selector cannot be checked',
  I_SESSION_AFFINITY: 'sessionAffinity ClientIP with several endpoints: load is spread per client, not per connection',
  I_HEADLESS: 'a headless Service (clusterIP: None): no rules, DNS answers with the Pod IPs',
  I_EXTERNALNAME: 'an ExternalName Service: no rules, DNS answers with a CNAME',
  I_LB_SOURCE_RANGES: 'a LoadBalancer Service that accepts only some client ranges on its load-balancer IP',
  I_LB_HOSTNAME: 'a load balancer known only by host name: kube-proxy writes rules only for ingress IPs',
  I_PING: 'a ping to an address that is not a Service address, traced through the rules',
  I_PING_UNAVAILABLE: 'a ping that could not be traced (the input has errors)',
} as const;

export type DoctorCode = keyof typeof DOCTOR_CODES;
