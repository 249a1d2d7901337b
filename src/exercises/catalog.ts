/**
 * The exercises, in the order of the notes (../shared/seed/k8s-service-notes.txt): ping, balancing, named ports,
 * session affinity, NodePort, externalTrafficPolicy, LoadBalancer, Endpoints without a selector, ExternalName,
 * Ingress.
 * Each names a packet and a question; the right answer is always derived from the trace (`holds`, `derive`,
 * or the endpoints the trace reaches), never written down here.
 */
import type { Outcome } from '../emulate/trace.js';
import type { UrlOutcome } from '../ingress/trace.js';
import type { Choice, Exercise, Observation } from './types.js';

/** A client pod on this node (node-1's pod network is 10.244.1.0/24; the kubia pods are .5 and .6). */
const CLIENT_POD = '10.244.1.2';
/** A client on the Internet (a documentation address). */
const OUTSIDE_CLIENT = '203.0.113.9';

const untranslated = (o: Outcome) => o.dnat === null;

/** "where does ping to a ClusterIP go": the same four possibilities in both proxy modes. */
const PING_CHOICES: Choice[] = [
  {
    text: 'The node answers it: the ClusterIP is one of its own addresses.',
    holds: (obs) => obs.outcomes.every((o) => untranslated(o) && o.result === 'local'),
    why: (obs) => [`The trace ends in the node's own network stack: ${obs.target.address} is handled locally, so the node replies.`],
  },
  {
    text: 'kube-proxy translates it to one of the pods, and that pod answers.',
    holds: (obs) => obs.outcomes.some((o) => !untranslated(o)),
    why: (obs) => [`A rule DNATed the echo request to ${obs.endpoints.join(' or ')}; a pod there can answer it.`],
  },
  {
    text: 'Nothing translates it: it is routed on (or dropped) as an ordinary packet, nobody answers, and ping times out.',
    holds: (obs) => obs.outcomes.every((o) => untranslated(o) && (o.result === 'forwarded' || o.result === 'dropped')),
    why: (obs) => [
      `No rule matched the echo request: it still goes to ${obs.target.address}, which is no interface's address on any node.`,
      obs.outcomes.every((o) => o.result === 'forwarded')
        ? `So the node routes it like any other packet to an unknown address, out of ${obs.detail.paths[0]?.route?.iface ?? 'its default route'}, and no host on the way answers: 100% packet loss.`
        : 'It is dropped on the way, silently: the client waits for a reply that never comes.',
    ],
  },
  {
    text: 'The node refuses it at once (ICMP port unreachable), so ping fails immediately.',
    holds: (obs) => obs.outcomes.every((o) => o.result === 'rejected'),
    why: () => [
      'The echo request matched no translation (those need tcp/udp/sctp and a port), but a rule for every ClusterIP rejects',
      'whatever else is sent to one: the client gets an ICMP error right away instead of waiting.',
    ],
  },
];

function pingExercise(mode: 'iptables' | 'nftables'): Exercise {
  return {
    slug: `ping-clusterip-${mode}`,
    topic: 'ping',
    title: `Why ping to a ClusterIP fails (${mode} mode)`,
    ruleset: 'kubia',
    mode,
    show: [{ kind: 'Service', name: 'kubia', keys: ['clusterIP', 'port'] }],
    probe: { kind: 'packet', protocol: 'icmp', source: CLIENT_POD, target: { service: 'kubia', via: 'dns' }, run: { kind: 'once' } },
    situation: (obs) => [
      `kube-proxy runs in ${mode} mode. A pod on this node (${obs.spec.source}) runs \`ping kubia\`;`,
      `cluster DNS answers ${obs.target.address}, the Service's ClusterIP.`,
    ],
    question: 'What happens to the ICMP echo request?',
    ask: { kind: 'choice', choices: PING_CHOICES },
  };
}

/** "Name every endpoint": the probabilities of each, from the trace. */
function endpointShares(obs: Observation): string {
  return obs.endpoints
    .map((endpoint) => {
      const share = obs.outcomes.filter((o) => o.dnat === endpoint).reduce((sum, o) => sum + o.probability, 0);
      return `${endpoint} (${Math.round(share * 1000) / 10}%)`;
    })
    .join(', ');
}

/** What the pod sees as the client: the source of every outcome that reached an endpoint. */
function sourcesSeenByPods(obs: Observation): string[] {
  return [...new Set(obs.outcomes.filter((o) => o.dnat !== null && (o.result === 'delivered' || o.result === 'forwarded')).map((o) => o.finalSource))].sort();
}

/** The setup shared by the NodePort exercises: a client outside the cluster connects to this node's NodePort. */
function nodePortScenario(service: string, keys: string[]): Pick<Exercise, 'ruleset' | 'mode' | 'show' | 'probe' | 'situation'> {
  return {
    ruleset: service,
    mode: 'iptables',
    show: [{ kind: 'Service', name: service, keys }],
    probe: { kind: 'packet', protocol: 'tcp', source: OUTSIDE_CLIENT, origin: 'external', target: { service, via: 'nodePort' }, run: { kind: 'once' } },
    situation: (obs) => [`A client outside the cluster (${obs.spec.source}) connects to this node, ${obs.target.address}:${obs.target.port}.`],
  };
}

/** The Ingress exercises' request: a browser outside the cluster asks the notes' host for `path` on `host`. */
function ingressScenario(host: string, path: string): Pick<Exercise, 'ruleset' | 'mode' | 'show' | 'probe'> {
  return {
    ruleset: 'kubia-ingress',
    mode: 'iptables',
    show: [{ kind: 'Ingress', name: 'kubia', keys: ['host', 'path', 'pathType', 'number', 'ip'] }],
    probe: { kind: 'http', scheme: 'http', host, path, source: OUTSIDE_CLIENT, origin: 'external' },
  };
}

/** The backend endpoints that answer an HTTP request, over all its outcomes. */
function answeringEndpoints(obs: Observation): string[] {
  return [...new Set((obs.http?.trace.outcomes ?? []).flatMap((o) => (o.result === 'endpoint' ? [o.endpoint] : [])))];
}

/** Share of requests that end in `result` (an HTTP status, an endpoint, ...). */
function httpShare(obs: Observation, matches: (o: UrlOutcome) => boolean): number {
  return (obs.http?.trace.outcomes ?? []).filter(matches).reduce((sum, o) => sum + o.probability, 0);
}

const ENDPOINTS_QUESTION = 'Name every pod address and port (ip:port, comma-separated) the connection can be sent to.';

export const EXERCISES: readonly Exercise[] = [
  pingExercise('iptables'),
  pingExercise('nftables'),
  {
    slug: 'multiport-other-node',
    topic: 'balancing',
    title: 'How often a ClusterIP connection leaves the node',
    ruleset: 'kubia-multiport',
    mode: 'iptables',
    show: [{ kind: 'Service', name: 'kubia', keys: ['name', 'port', 'targetPort'] }],
    probe: { kind: 'packet', protocol: 'tcp', source: CLIENT_POD, target: { service: 'kubia', via: 'dns', portName: 'https' }, run: { kind: 'once' } },
    situation: (obs) => [
      `A pod on this node (${obs.spec.source}) opens a TCP connection to kubia:${obs.target.port} (${obs.target.address}:${obs.target.port}).`,
      'Some of the Service\'s pods run on this node, some on another.',
    ],
    question: 'How likely is it, in percent (rounded to a whole number), that the connection goes to a pod on another node?',
    ask: { kind: 'number', derive: (obs) => Math.round(100 * obs.outcomes.filter((o) => o.dnat !== null && o.result === 'forwarded').reduce((sum, o) => sum + o.probability, 0)) },
    explain: (obs) => [
      `The Service port's KUBE-SVC chain picks ${endpointShares(obs)}.`,
      'kube-proxy balances a ClusterIP over all ready endpoints with equal weight, wherever they run: it does not prefer',
      'pods on the client\'s node (unless internalTrafficPolicy: Local). Each port of a multi-port Service balances on its own.',
    ],
  },
  {
    slug: 'named-port',
    topic: 'named-ports',
    title: 'A targetPort given by name',
    ruleset: 'kubia-named-ports',
    mode: 'iptables',
    show: [{ kind: 'Service', name: 'kubia', keys: ['name', 'port', 'targetPort'] }],
    probe: { kind: 'packet', protocol: 'tcp', source: CLIENT_POD, target: { service: 'kubia', via: 'dns', portName: 'https' }, run: { kind: 'once' } },
    situation: (obs) => [
      `The Service's targetPorts are names (http, https); each Pod's containers say which port numbers they stand for.`,
      `A pod (${obs.spec.source}) connects to kubia:${obs.target.port} (${obs.target.address}:${obs.target.port}).`,
    ],
    question: ENDPOINTS_QUESTION,
    ask: { kind: 'endpoints' },
    explain: (obs) => [
      `The trace reaches ${endpointShares(obs)}.`,
      'The endpoint controller resolves a named targetPort per Pod: the port number is the one that Pod declares under that',
      'name, and a Pod that declares no port of that name is not an endpoint of this Service port at all.',
    ],
  },
  {
    slug: 'affinity-sticky',
    topic: 'session-affinity',
    title: 'sessionAffinity: ClientIP over several connections',
    ruleset: 'kubia',
    mode: 'iptables',
    show: [{ kind: 'Service', name: 'kubia', keys: ['sessionAffinity'] }],
    probe: { kind: 'packet', protocol: 'tcp', source: CLIENT_POD, target: { service: 'kubia', via: 'dns' }, run: { kind: 'connections', count: 6, interval: 1, seed: 1 } },
    situation: (obs) => [
      `One client (${obs.spec.source}) opens ${obs.series?.length ?? 0} new TCP connections to kubia:${obs.target.port}, one second apart,`,
      'each from a new source port (so conntrack does not tie them together).',
    ],
    question: 'How many different pods serve these connections?',
    ask: { kind: 'number', derive: (obs) => new Set(obs.series?.map((s) => s.reached)).size },
    explain: (obs) => [
      ...(obs.series ?? []).map((s) => `  connection ${s.connection} at t=${s.time}s → ${s.reached}`),
      'With sessionAffinity: ClientIP, the first connection records the client address in a `recent` list (nftables: an',
      'affinity set) of the pod it reached; later connections from that address go back to it while the entry is fresh.',
      'Without affinity every new connection is balanced at random on its own.',
    ],
  },
  {
    slug: 'affinity-timeout',
    topic: 'session-affinity',
    title: 'sessionAffinity after the timeout',
    ruleset: 'kubia',
    mode: 'iptables',
    show: [{ kind: 'Service', name: 'kubia', keys: ['sessionAffinity', 'timeoutSeconds'] }],
    probe: { kind: 'packet', protocol: 'tcp', source: CLIENT_POD, target: { service: 'kubia', via: 'dns' }, run: { kind: 'reconnect', after: 4 * 3600 } },
    situation: (obs) => [
      `A client (${obs.spec.source}) connected to kubia:${obs.target.port} and was sent to ${obs.first}.`,
      'It opens a new connection 4 hours later (no traffic in between).',
    ],
    question: 'Where can the new connection go?',
    ask: {
      kind: 'choice',
      choices: [
        {
          text: 'Only to the same pod as before.',
          holds: (obs) => obs.endpoints.length === 1 && obs.endpoints[0] === obs.first,
          why: (obs) => [`The client's affinity entry is still fresh, so the rule that checks it sends the connection back to ${obs.first}.`],
        },
        {
          text: 'To any of the pods: the choice is made afresh.',
          holds: (obs) => obs.endpoints.length > 1,
          why: (obs) => [
            `The affinity entry is older than the Service's timeout (${affinityTimeoutText(obs)}), so the check`,
            `fails and the connection is balanced at random again: ${endpointShares(obs)}.`,
          ],
        },
        {
          text: 'Nowhere: with its affinity entry expired the client is refused.',
          holds: (obs) => obs.outcomes.every((o) => o.result === 'dropped' || o.result === 'rejected'),
          why: () => ['Every path of the trace ends in a drop or reject.'],
        },
      ],
    },
  },
  {
    slug: 'nodeport-endpoints',
    topic: 'nodeport',
    title: 'Where NodePort traffic goes',
    ...nodePortScenario('kubia-nodeport', ['type', 'nodePort']),
    question: ENDPOINTS_QUESTION,
    ask: { kind: 'endpoints' },
    explain: (obs) => [
      `The trace reaches ${endpointShares(obs)}.`,
      'With externalTrafficPolicy: Cluster (the default) a NodePort balances over all endpoints of the Service, also',
      'pods on other nodes: the packet then takes a second hop, from this node to that one.',
    ],
  },
  {
    slug: 'nodeport-masquerade',
    topic: 'nodeport',
    title: 'Does NodePort traffic keep the client address?',
    ...nodePortScenario('kubia-nodeport', ['type', 'nodePort']),
    question: 'Is the connection masqueraded, i.e. does the pod see a node address instead of the client address? (yes/no)',
    ask: { kind: 'yesno', derive: (obs) => (obs.outcomes.every((o) => o.masquerade) ? true : obs.outcomes.every((o) => !o.masquerade) ? false : undefined) },
    explain: (obs) => [
      `The pods see ${sourcesSeenByPods(obs).join(' or ')} as the client.`,
      'kube-proxy marks NodePort traffic for masquerade when the Service balances over the whole cluster: the pod may be on',
      'another node, and its reply must come back through this node to be un-DNATed before it reaches the client.',
    ],
  },
  {
    slug: 'etp-local-source',
    topic: 'external-traffic-policy',
    title: 'externalTrafficPolicy: Local and the client address',
    ...nodePortScenario('kubia-nodeport-local', ['externalTrafficPolicy', 'nodePort']),
    question: 'What source address does the pod that receives the connection see?',
    ask: { kind: 'address', derive: sourcesSeenByPods },
    explain: (obs) => [
      `The pods see ${sourcesSeenByPods(obs).join(' or ')}; the trace reaches ${endpointShares(obs)}.`,
      ...(sourcesSeenByPods(obs).includes(obs.spec.source)
        ? [
            'With externalTrafficPolicy: Local, external traffic only goes to pods on the node it arrived at, so no second hop is',
            'needed and kube-proxy does not masquerade it: the pod sees the real client address. The price: a node with no local',
            'pod drops such traffic, and the load is split per node, not per pod.',
          ]
        : ['The source was rewritten on the way (masquerade): with these rules the Service does not keep client addresses.']),
    ],
  },
  {
    slug: 'etp-local-endpoints',
    topic: 'external-traffic-policy',
    title: 'externalTrafficPolicy: Local and the endpoints',
    ...nodePortScenario('kubia-nodeport-local', ['externalTrafficPolicy', 'nodePort']),
    question: ENDPOINTS_QUESTION,
    ask: { kind: 'endpoints' },
    explain: (obs) => [
      `The trace reaches ${endpointShares(obs)}.`,
      'externalTrafficPolicy: Local sends external traffic through KUBE-SVL (local endpoints only) instead of KUBE-SVC;',
      'pods on other nodes are not candidates. Traffic from pods to the ClusterIP still uses all endpoints.',
    ],
  },
  {
    slug: 'loadbalancer-ip',
    topic: 'loadbalancer',
    title: 'A packet to the load balancer IP',
    ruleset: 'kubia-loadbalancer',
    mode: 'iptables',
    show: [{ kind: 'Service', name: 'kubia-loadbalancer', keys: ['type', 'ip', 'nodePort'] }],
    probe: { kind: 'packet', protocol: 'tcp', source: OUTSIDE_CLIENT, origin: 'external', target: { service: 'kubia-loadbalancer', via: 'loadBalancer' }, run: { kind: 'once' } },
    situation: (obs) => [
      `The cloud load balancer (${obs.target.address}) hands a client's packet (${obs.spec.source} → ${obs.target.address}:${obs.target.port}) to this node`,
      'without rewriting its destination.',
    ],
    question: ENDPOINTS_QUESTION,
    ask: { kind: 'endpoints' },
    explain: (obs) => [
      `The trace reaches ${endpointShares(obs)}.`,
      `kube-proxy matches the load balancer address itself (a rule for ${obs.target.address}:${obs.target.port} in KUBE-SERVICES),`,
      'so such a packet is balanced like NodePort traffic, straight to a pod, without going through the NodePort.',
    ],
  },
  {
    slug: 'endpoints-without-selector',
    topic: 'endpoints-without-selector',
    title: 'A Service without a selector',
    ruleset: 'google-map',
    mode: 'iptables',
    show: [
      { kind: 'Service', name: 'google-map', keys: ['clusterIP', 'port'] },
      { kind: 'Endpoints', name: 'google-map', keys: ['ip', 'port'] },
    ],
    probe: { kind: 'packet', protocol: 'tcp', source: CLIENT_POD, target: { service: 'google-map', via: 'dns' }, run: { kind: 'once' } },
    situation: (obs) => [`A pod (${obs.spec.source}) connects to google-map:${obs.target.port} (${obs.target.address}:${obs.target.port}).`],
    question: 'Name every address and port (ip:port, comma-separated) the connection can be sent to.',
    ask: { kind: 'endpoints' },
    explain: (obs) => [
      `The trace reaches ${endpointShares(obs)}.`,
      'A Service without a selector gets no endpoints from the control plane; the v1 Endpoints object of the same name',
      'lists them by hand, and kube-proxy balances over them like over pods, even when they are outside the cluster.',
    ],
  },
  {
    slug: 'externalname',
    topic: 'externalname',
    title: 'An ExternalName Service',
    ruleset: 'google-map-externalname',
    mode: 'iptables',
    show: [{ kind: 'Service', name: 'google-map', keys: ['type', 'externalName'] }],
    probe: { kind: 'packet', protocol: 'tcp', source: CLIENT_POD, target: { service: 'google-map', via: 'dns' }, run: { kind: 'once' } },
    situation: (obs) => [`A pod (${obs.spec.source}) runs \`curl http://google-map:${obs.target.port}/\`.`],
    question: 'What do cluster DNS and kube-proxy do with it?',
    ask: {
      kind: 'choice',
      choices: [
        {
          text: "DNS answers the Service's ClusterIP and kube-proxy DNATs the connection to the external address.",
          holds: (obs) => obs.target.dns?.kind === 'clusterIP' && obs.endpoints.length > 0,
          why: (obs) => [`${obs.target.dns?.name} resolved to the ClusterIP ${obs.target.address}, and the trace DNATs it to ${obs.endpoints.join(' or ')}.`],
        },
        {
          text: 'DNS answers with another name (a CNAME); kube-proxy has no rule for it, and the packet leaves the node untranslated.',
          holds: (obs) => obs.target.dns?.kind === 'externalName' && obs.outcomes.every((o) => untranslated(o) && o.result === 'forwarded'),
          why: (obs) => [
            `Cluster DNS answers ${obs.target.dns?.name} with a CNAME to ${obs.target.dns?.cname}; the client resolves that name with`,
            `ordinary DNS (here, say, to ${obs.target.address}) and connects there. The trace of that packet matches no kube-proxy`,
            'rule: an ExternalName Service has no ClusterIP and no endpoints, so kube-proxy writes nothing for it.',
          ],
        },
        {
          text: 'The node refuses the connection: the Service has no endpoints.',
          holds: (obs) => obs.outcomes.every((o) => o.result === 'rejected'),
          why: (obs) => [`${obs.target.address}:${obs.target.port} is a Service with no endpoints: kube-proxy rejects new connections to it.`],
        },
      ],
    },
  },  {
    slug: 'ingress-backends',
    topic: 'ingress',
    title: 'Which pods answer a request through an Ingress',
    ...ingressScenario('kubia.example.com', '/foo'),
    situation: (obs) => [
      `A browser outside the cluster (${obs.spec.source}) asks for http://kubia.example.com/foo; DNS sends it to ${obs.target.address}:${obs.target.port}.`,
      'An ingress-nginx controller runs in the cluster behind its own LoadBalancer Service.',
    ],
    question: 'Name every pod address and port (ip:port, comma-separated) that can answer the request.',
    ask: { kind: 'endpoints', derive: answeringEndpoints },
    explain: (obs) => [
      `kube-proxy sends the connection to the controller (${obs.endpoints.join(', ')}); the controller picks the Ingress rule`,
      `by Host and path and proxies to ${answeringEndpoints(obs).join(', ')} itself, over a connection of its own.`,
      'It talks to the endpoints directly, not to the backend Service\'s ClusterIP: one address (the controller\'s) serves',
      'many Services, which is why an Ingress needs only one load balancer IP.',
    ],
  },
  {
    slug: 'ingress-unknown-host',
    topic: 'ingress',
    title: 'A request for a host no Ingress names',
    ...ingressScenario('other.example.com', '/'),
    situation: (obs) => [
      `A browser outside the cluster (${obs.spec.source}) asks for http://other.example.com/, and that name, too, resolves to`,
      `${obs.target.address}:${obs.target.port}, the address the kubia Ingress is served on.`,
    ],
    question: 'What happens to the request?',
    ask: {
      kind: 'choice',
      choices: [
        {
          text: "kube-proxy drops it: it has no rule for that host name.",
          holds: (obs) => httpShare(obs, (o) => o.result === 'not-reached') === 1,
          why: () => ['No connection reaches a controller Pod, so no HTTP server ever sees the request.'],
        },
        {
          text: 'It reaches the controller, which answers 404 itself: no Ingress rule matches the host.',
          holds: (obs) => httpShare(obs, (o) => o.result === 'status' && o.status === 404) === 1,
          why: (obs) => [
            `kube-proxy has no idea of host names: it DNATs the connection to the controller (${obs.endpoints.join(', ')}) like any other.`,
            'The controller reads the Host header, finds no rule for other.example.com, and its default backend answers 404.',
          ],
        },
        {
          text: 'It reaches the kubia pods, like every request sent to that address.',
          holds: (obs) => httpShare(obs, (o) => o.result === 'endpoint') > 0,
          why: (obs) => [`The controller proxies it to ${answeringEndpoints(obs).join(', ')}: a rule (or the default backend) sends this host there.`],
        },
      ],
    },
  },
];

/** The affinity timeout the trace's rules check (`recent --rcheck --seconds N`), as the learner would read it. */
function affinityTimeoutText(obs: Observation): string {
  for (const hop of obs.outcomes.flatMap((o) => o.hops)) {
    const seconds = /--rcheck --seconds (\d+)/.exec(hop.text)?.[1];
    if (seconds !== undefined) return `sessionAffinityConfig.clientIP.timeoutSeconds: ${seconds} s = ${(Number(seconds) / 3600).toFixed(Number(seconds) % 3600 === 0 ? 0 : 1)} h`;
  }
  return 'sessionAffinityConfig.clientIP.timeoutSeconds, 10800 s = 3 h unless set';
}
