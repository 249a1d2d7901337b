/**
 * The shape of an exercise: a scenario on one of the examples in rulesets/, a probe (which packet or
 * connections to trace), a question, and how the correct answer follows from what the trace shows. Nothing
 * here holds an answer: every answer is derived from an `Observation`, so when the rules change, so does it.
 */
import type { Origin, PacketSpec, Proto } from '../emulate/packet.js';
import type { Outcome, TraceDetail } from '../emulate/trace.js';
import type { UrlTraceResult } from '../ingress/trace.js';

/** The notes' topics, in the order the notes take them. */
export type Topic =
  | 'ping'
  | 'balancing'
  | 'named-ports'
  | 'session-affinity'
  | 'nodeport'
  | 'external-traffic-policy'
  | 'loadbalancer'
  | 'endpoints-without-selector'
  | 'externalname'
  | 'ingress';

/**
 * Where the probe goes, named the way a learner names it; resolved from the manifests when the exercise runs.
 *   dns          — the Service's name, answered as cluster DNS would (its ClusterIP; for ExternalName, the CNAME)
 *   nodePort     — this node's primary IP, at the Service port's nodePort
 *   loadBalancer — the first `status.loadBalancer.ingress` IP, at the Service port
 */
export interface Target {
  service: string;
  namespace?: string;
  via: 'dns' | 'nodePort' | 'loadBalancer';
  /** Which Service port (by name); default: the first. */
  portName?: string;
}

/** How the probe is traced. */
export type ProbeRun =
  /** One new connection, every outcome enumerated with its probability. */
  | { kind: 'once' }
  /** `count` new connections from one client (fresh source ports) `interval` s apart, sampled with `seed`, state kept. */
  | { kind: 'connections'; count: number; interval: number; seed: number }
  /** One connection (its first outcome taken, state committed), then a new one `after` s later, enumerated. */
  | { kind: 'reconnect'; after: number };

/** A packet (or a series of connections) to a Service. */
export interface PacketProbe {
  kind: 'packet';
  protocol: Proto;
  /** The client's address. */
  source: string;
  origin?: Origin;
  target: Target;
  run: ProbeRun;
}

/** An HTTP request through an Ingress (`kproxy trace --url`): host address, kube-proxy, controller, backend. */
export interface HttpProbe {
  kind: 'http';
  scheme: 'http' | 'https';
  host: string;
  path: string;
  source: string;
  origin: Origin;
}

export type Probe = PacketProbe | HttpProbe;

/** What the probe resolved to before tracing. */
export interface ResolvedTarget {
  /** The address the client sends to (for ExternalName: a documentation address standing for the CNAME target; for HTTP: the host's address). */
  address: string;
  port?: number;
  /** How the name was answered, when the target was a DNS name. */
  dns?: { name: string; kind: 'clusterIP' | 'externalName' | 'headless'; cname?: string };
}

/** Everything the trace showed; the only input of `derive`, `holds` and `why`. */
export interface Observation {
  target: ResolvedTarget;
  spec: PacketSpec;
  /** The packet the question is about (for `reconnect`: the second connection; for `connections`: the last). */
  detail: TraceDetail;
  outcomes: Outcome[];
  /** Distinct DNAT destinations (`ip:port`) over the outcomes, sorted; empty when nothing was translated. */
  endpoints: string[];
  /** `connections`: where each connection went (its DNAT destination, or its final destination). */
  series?: { connection: number; time: number; reached: string }[];
  /** `reconnect`: where the first connection went. */
  first?: string;
  /** HTTP probes: the whole request (hop 2, kube-proxy's packet to the controller, is `detail`). */
  http?: UrlTraceResult;
}

export interface Choice {
  text: string;
  /** True when the trace shows this; exactly one choice must hold. */
  holds(obs: Observation): boolean;
  /** Plain words for when this is the choice the trace picked. */
  why(obs: Observation): string[];
}

/** The kinds of answers a learner gives, each with the rule that derives the right one from the trace. */
export type Ask =
  | { kind: 'choice'; choices: Choice[] }
  /** Every `ip:port` that can serve the connection (default: the DNAT destinations), comma-separated, or `none`. */
  | { kind: 'endpoints'; derive?(obs: Observation): string[] }
  | { kind: 'yesno'; derive(obs: Observation): boolean | undefined }
  /** An IP address; any of the derived ones is right (empty = the trace does not fit the question). */
  | { kind: 'address'; derive(obs: Observation): string[] }
  | { kind: 'number'; derive(obs: Observation): number };

export interface ManifestRef {
  kind: string;
  name: string;
  /** Keys whose lines are marked as the ones that matter here. */
  keys?: string[];
}

export interface Exercise {
  slug: string;
  topic: Topic;
  title: string;
  /** Folder under rulesets/. */
  ruleset: string;
  mode: 'iptables' | 'nftables';
  /** Manifest objects shown in the setup. */
  show: ManifestRef[];
  probe: Probe;
  /** The situation in plain words; may name what the probe resolved to. */
  situation(obs: Observation): string[];
  question: string;
  ask: Ask;
  /** Plain words after the answer (for choices, the picked choice's `why` comes first). */
  explain?(obs: Observation): string[];
}
