/**
 * The exercise engine: resolve the probe against the manifests, trace it, derive the right answer from the
 * trace, read and check a learner's answer. Pure apart from the injected `Lab` (an emulator of one node built
 * from the exercise's ruleset), so the same exercise gives a different answer when the rules differ.
 */
import type { Cluster } from '../cluster/types.js';
import type { NodeModel } from '../emulate/node.js';
import { hasPorts, type PacketSpec } from '../emulate/packet.js';
import { resolveDestination } from '../emulate/resolve.js';
import { sampleConnectionsWith } from '../emulate/scenario.js';
import { commitEffects, emptyState } from '../emulate/state.js';
import type { Outcome, TraceDetail, TraceOptions } from '../emulate/trace.js';
import { traceUrl } from '../ingress/trace.js';
import type { NodeConfig } from '../model/node-config.js';
import { parseIP } from '../net/ip.js';
import type { Ask, Exercise, HttpProbe, Observation, PacketProbe, ResolvedTarget } from './types.js';

/** One node's rules, ready to trace (built by the CLI from the exercise's ruleset and mode). */
export interface Lab {
  node: NodeModel;
  /** The node settings the rules were compiled for (the Ingress walk reads them). */
  config: NodeConfig;
  cluster: Cluster;
  trace(spec: PacketSpec, options?: TraceOptions): TraceDetail;
}

/** The exercise does not fit the rules it runs on (a Service is missing, or the trace fits no single answer). */
export class ExerciseError extends Error {}

/** Stands for whatever address an ExternalName's CNAME target resolves to (a documentation address). */
export const EXTERNAL_NAME_ADDRESS = '198.51.100.7';

/** Finds an exercise by its number (1-based, as listed) or its slug. */
export function findExercise(catalog: readonly Exercise[], key: string): { exercise: Exercise; number: number } | undefined {
  const byNumber = /^\d+$/.test(key) ? Number(key) : NaN;
  const index = Number.isInteger(byNumber) ? byNumber - 1 : catalog.findIndex((e) => e.slug === key);
  const exercise = catalog[index];
  return exercise ? { exercise, number: index + 1 } : undefined;
}

export function resolveTarget(probe: PacketProbe, lab: Lab): ResolvedTarget {
  const { target } = probe;
  const namespace = target.namespace ?? 'default';
  const service = lab.cluster.services.find((s) => s.name === target.service && s.namespace === namespace);
  if (!service) throw new ExerciseError(`the manifests have no Service ${namespace}/${target.service}`);
  const port = target.portName === undefined ? service.ports[0] : service.ports.find((p) => p.name === target.portName);
  if (!port) throw new ExerciseError(`Service ${namespace}/${service.name} has no port${target.portName === undefined ? 's' : ` named ${target.portName}`}`);
  switch (target.via) {
    case 'nodePort': {
      if (!lab.node.primaryIP) throw new ExerciseError(`node ${lab.node.name} has no primary IP to send a NodePort packet to`);
      if (port.nodePort === 0) throw new ExerciseError(`Service ${namespace}/${service.name} has no nodePort (type ${service.type ?? 'ClusterIP'})`);
      return { address: lab.node.primaryIP.text, port: port.nodePort };
    }
    case 'loadBalancer': {
      const ip = service.loadBalancerIngress.find((i) => i.ip)?.ip;
      if (!ip) throw new ExerciseError(`Service ${namespace}/${service.name} has no load balancer IP in status.loadBalancer.ingress`);
      return { address: ip, port: port.port };
    }
    case 'dns': {
      const answer = resolveDestination(`${service.name}.${namespace}`, lab.cluster, namespace, lab.node.family);
      switch (answer.kind) {
        case 'clusterIP':
          return { address: answer.ip, port: port.port, dns: { name: answer.fqdn, kind: 'clusterIP' } };
        case 'externalName':
          return { address: EXTERNAL_NAME_ADDRESS, port: port.port, dns: { name: answer.fqdn, kind: 'externalName', cname: answer.externalName } };
        case 'headless': {
          const first = answer.ips[0];
          if (!first) throw new ExerciseError(`${answer.fqdn} is headless with no ready endpoints: DNS returns no address`);
          return { address: first, port: port.port, dns: { name: answer.fqdn, kind: 'headless' } };
        }
        default:
          throw new ExerciseError(answer.kind === 'unknown' ? answer.message : `${service.name} did not resolve to an address`);
      }
    }
  }
}

/** Where a path took the packet: its DNAT destination, or the address it kept. */
export function reached(path: Outcome | undefined): string {
  if (!path) return 'nowhere';
  return path.dnat ?? `${path.finalDestination} (not translated, ${path.result})`;
}

/** Runs the exercise's probe through the lab and gathers what the question needs. */
export function observe(exercise: Exercise, lab: Lab): Observation {
  const trace = (packet: PacketSpec, options?: TraceOptions): TraceDetail => {
    try {
      return lab.trace(packet, options);
    } catch (e) {
      throw new ExerciseError((e as Error).message);
    }
  };
  const probe = exercise.probe;
  if (probe.kind === 'http') return observeHttp(probe, lab, trace);
  const target = resolveTarget(probe, lab);
  const spec: PacketSpec = {
    protocol: probe.protocol,
    source: probe.source,
    destination: target.address,
    ...(hasPorts(probe.protocol) && target.port !== undefined ? { destinationPort: target.port } : {}),
    ...(probe.origin ? { origin: probe.origin } : {}),
  };
  const run = probe.run;
  let detail: TraceDetail;
  let extra: Pick<Observation, 'series' | 'first'> = {};
  switch (run.kind) {
    case 'once':
      detail = trace(spec);
      break;
    case 'connections': {
      const runs = sampleConnectionsWith(trace, spec, { connections: run.count, interval: run.interval, seed: run.seed });
      detail = runs[runs.length - 1] as TraceDetail;
      extra = { series: runs.map((r) => ({ connection: r.connection, time: r.time, reached: reached(r.paths[0]) })) };
      break;
    }
    case 'reconnect': {
      // The first connection takes its first possible path; the second, from a new source port, is enumerated
      // against the state (conntrack, affinity) that path left behind.
      const state = emptyState();
      const firstDetail = trace(spec, { state, now: 0 });
      const taken = firstDetail.paths[0];
      if (taken) commitEffects(state, taken.effects, 0);
      const again: PacketSpec = hasPorts(spec.protocol) ? { ...spec, sourcePort: (spec.sourcePort ?? 40000) + 1 } : spec;
      detail = trace(again, { state, now: run.after });
      extra = { first: reached(taken) };
      break;
    }
  }
  return { target, spec, detail, outcomes: detail.trace.outcomes, endpoints: dnatTargets(detail.trace.outcomes), ...extra };
}

/** The Ingress walk (src/ingress) with kube-proxy's hop traced by the lab; `endpoints` are the controller Pods reached. */
function observeHttp(probe: HttpProbe, lab: Lab, trace: (spec: PacketSpec) => TraceDetail): Observation {
  const result = traceUrl({
    request: { url: `${probe.scheme}://${probe.host}${probe.path}`, scheme: probe.scheme, host: probe.host, path: probe.path, urlPort: undefined },
    from: probe.origin,
    cluster: lab.cluster,
    node: lab.config,
    source: () => probe.source,
    tracePacket: trace,
  });
  if ('error' in result) throw new ExerciseError(result.error);
  const detail = result.detail;
  if (!detail) throw new ExerciseError(`the request to ${probe.host} never reaches kube-proxy's rules: ${result.trace.outcomes.map((o) => o.result).join(', ')}`);
  const packet = detail.trace.packet;
  const spec: PacketSpec = {
    protocol: detail.packet.protocol,
    source: packet.source,
    destination: packet.destination,
    ...(packet.destinationPort !== undefined ? { destinationPort: packet.destinationPort } : {}),
    origin: packet.origin,
  };
  const target: ResolvedTarget = { address: packet.destination, ...(packet.destinationPort !== undefined ? { port: packet.destinationPort } : {}) };
  return { target, spec, detail, outcomes: detail.trace.outcomes, endpoints: dnatTargets(detail.trace.outcomes), http: result };
}

/** Distinct DNAT destinations (`ip:port`), in address order. */
function dnatTargets(outcomes: readonly Outcome[]): string[] {
  return [...new Set(outcomes.map((o) => o.dnat).filter((d): d is string => d !== null))].sort(byAddress);
}

function byAddress(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** A learner's answer, or the right one, in the form of the question. */
export type Answer =
  | { kind: 'choice'; index: number }
  | { kind: 'endpoints'; endpoints: string[] }
  | { kind: 'yesno'; value: boolean }
  /** For the right answer: every acceptable address; for a learner's: the one given. */
  | { kind: 'address'; addresses: string[] }
  | { kind: 'number'; value: number };

/** The right answer, derived from the trace; throws ExerciseError when the trace fits the question no single way. */
export function expectedAnswer(exercise: Exercise, obs: Observation): Answer {
  const ask = exercise.ask;
  const outcomes = () => obs.outcomes.map((o) => `${Math.round(o.probability * 1000) / 10}% ${reached(o)}${o.masquerade ? ' masqueraded' : ''} ${o.result}`).join('; ');
  switch (ask.kind) {
    case 'choice': {
      const holding = ask.choices.map((c, index) => (c.holds(obs) ? index : -1)).filter((i) => i >= 0);
      if (holding.length !== 1) {
        const which = holding.length === 0 ? 'none of the choices' : `choices ${holding.map(letter).join(' and ')} at once`;
        throw new ExerciseError(`the trace fits ${which} (outcomes: ${outcomes()})`);
      }
      return { kind: 'choice', index: holding[0] as number };
    }
    case 'endpoints':
      return { kind: 'endpoints', endpoints: [...(ask.derive?.(obs) ?? obs.endpoints)].sort(byAddress) };
    case 'yesno': {
      const value = ask.derive(obs);
      if (value === undefined) throw new ExerciseError(`the outcomes differ, so there is no single yes or no (outcomes: ${outcomes()})`);
      return { kind: 'yesno', value };
    }
    case 'address': {
      const addresses = ask.derive(obs);
      if (addresses.length === 0) throw new ExerciseError(`no outcome reaches an endpoint (outcomes: ${outcomes()})`);
      return { kind: 'address', addresses };
    }
    case 'number':
      return { kind: 'number', value: ask.derive(obs) };
  }
}

export function letter(index: number): string {
  return String.fromCharCode(97 + index);
}

/** How each kind of answer is typed, for prompts and error messages. */
export function answerFormat(ask: Ask): string {
  switch (ask.kind) {
    case 'choice':
      return `one letter, ${ask.choices.map((_, i) => letter(i)).join(', ')}`;
    case 'endpoints':
      return 'ip:port, comma-separated, or none';
    case 'yesno':
      return 'yes or no';
    case 'address':
      return 'an IP address';
    case 'number':
      return 'a whole number';
  }
}

const NO_ENDPOINT = /^(none|nowhere|dropped|-)$/i;

/** Reads a learner's answer; a message says what was expected when it cannot be read. */
export function parseAnswer(ask: Ask, text: string): { ok: true; answer: Answer } | { ok: false; message: string } {
  const input = text.trim();
  const bad = { ok: false as const, message: `cannot read ${JSON.stringify(input)} as an answer: give ${answerFormat(ask)}` };
  switch (ask.kind) {
    case 'choice': {
      const m = /^\(?([a-z])[).]?$/i.exec(input);
      const index = m ? (m[1] as string).toLowerCase().charCodeAt(0) - 97 : -1;
      return index >= 0 && index < ask.choices.length ? { ok: true, answer: { kind: 'choice', index } } : bad;
    }
    case 'endpoints': {
      if (NO_ENDPOINT.test(input)) return { ok: true, answer: { kind: 'endpoints', endpoints: [] } };
      const endpoints: string[] = [];
      for (const word of input.split(/[\s,]+/).filter((w) => w !== '')) {
        const endpoint = canonicalEndpoint(word);
        if (!endpoint) return bad;
        if (!endpoints.includes(endpoint)) endpoints.push(endpoint);
      }
      return endpoints.length > 0 ? { ok: true, answer: { kind: 'endpoints', endpoints: endpoints.sort(byAddress) } } : bad;
    }
    case 'yesno': {
      if (/^(y|yes|true)$/i.test(input)) return { ok: true, answer: { kind: 'yesno', value: true } };
      if (/^(n|no|false)$/i.test(input)) return { ok: true, answer: { kind: 'yesno', value: false } };
      return bad;
    }
    case 'address': {
      const ip = parseIP(input);
      return ip ? { ok: true, answer: { kind: 'address', addresses: [ip.text] } } : bad;
    }
    case 'number':
      return /^\d+$/.test(input) ? { ok: true, answer: { kind: 'number', value: Number(input) } } : bad;
  }
}

/** `10.0.0.1:80` or `[2001:db8::1]:80`, written the way the trace writes it; undefined when it is not one. */
function canonicalEndpoint(word: string): string | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(word) ?? /^([^:]+):(\d+)$/.exec(word);
  if (!m) return undefined;
  const ip = parseIP(m[1] as string);
  const port = Number(m[2]);
  if (!ip || port < 1 || port > 65535) return undefined;
  return ip.family === 6 ? `[${ip.text}]:${port}` : `${ip.text}:${port}`;
}

export function isCorrect(expected: Answer, given: Answer): boolean {
  switch (expected.kind) {
    case 'choice':
      return given.kind === 'choice' && given.index === expected.index;
    case 'endpoints':
      return given.kind === 'endpoints' && given.endpoints.join(',') === expected.endpoints.join(',');
    case 'yesno':
      return given.kind === 'yesno' && given.value === expected.value;
    case 'address':
      return given.kind === 'address' && given.addresses.every((a) => expected.addresses.includes(a));
    case 'number':
      return given.kind === 'number' && given.value === expected.value;
  }
}

/** The answer as a learner would type it (for an address with several right ones: all, joined by "or"). */
export function formatAnswer(answer: Answer): string {
  switch (answer.kind) {
    case 'choice':
      return letter(answer.index);
    case 'endpoints':
      return answer.endpoints.length > 0 ? answer.endpoints.join(', ') : 'none';
    case 'yesno':
      return answer.value ? 'yes' : 'no';
    case 'address':
      return answer.addresses.join(' or ');
    case 'number':
      return String(answer.value);
  }
}
