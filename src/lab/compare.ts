/**
 * Emulator prediction against kernel observation, for one flow. Both sides are reduced to the same words:
 * `answered ENDPOINT` (an agent answered), `refused`, `unreachable`, `timeout`, and for ping `reply`,
 * `port-unreachable`, `no-reply`. Checks: every observed fate is predicted; over many connections every
 * likely predicted fate shows up and the counts pass a chi-square test (p ≥ 0.001); masquerade seen by the
 * endpoint equals masquerade predicted; with session affinity all connections stay on one endpoint.
 */
import type { PathOutcome, TraceDetail } from '../emulate/trace.js';
import type { Observation } from './client.js';
import { chiSquareTest, type ChiSquare } from './stats.js';

/** What the lab network holds: which address:port/proto an agent serves, which addresses exist at all. */
export interface LabHosts {
  serves(endpoint: string, proto: 'tcp' | 'udp'): boolean;
  owns(ip: string): boolean;
}

export interface PredictedFate {
  fate: string;
  probability: number;
  masquerade: boolean;
  /** Source addresses the endpoint should see (the client's, or the one masquerade picks). */
  sources: Set<string>;
}

export interface Prediction {
  fates: PredictedFate[];
  /** Session affinity rules were on the way: repeated connections must stay on one endpoint. */
  sticky: boolean;
  /** The emulator met something it does not model on some path. */
  uncertain: boolean;
}

export const CHI_SQUARE_P_MIN = 0.001;
/** A predicted fate expected at least this many times must be seen at least once (missing it by chance: e^-10). */
const MUST_APPEAR = 10;

function ipOf(hostPort: string): string {
  const colon = hostPort.lastIndexOf(':');
  return colon < 0 ? hostPort : hostPort.slice(0, colon);
}

/** The fate the kernel should show for one emulated path. */
export function expectedFate(path: PathOutcome, protocol: string, hosts: LabHosts): string {
  const ping = protocol === 'icmp';
  switch (path.result) {
    case 'rejected': {
      const portUnreachable = /port-unreach|tcp-reset/.test(path.rejectWith ?? 'icmp-port-unreachable');
      if (ping) return portUnreachable ? 'port-unreachable' : 'unreachable';
      return portUnreachable ? 'refused' : 'unreachable';
    }
    case 'dropped':
      return ping ? 'no-reply' : 'timeout';
    case 'unreachable':
      return 'unreachable';
    default: {
      const ip = ipOf(path.finalDestination);
      if (ping) return hosts.owns(ip) ? 'reply' : 'no-reply';
      if ((protocol === 'tcp' || protocol === 'udp') && hosts.serves(path.finalDestination, protocol)) return `answered ${path.finalDestination}`;
      // An address that exists but has no listener answers with a RST (TCP) or an ICMP port unreachable (UDP).
      return hosts.owns(ip) ? 'refused' : 'timeout';
    }
  }
}

export function predict(detail: TraceDetail, hosts: LabHosts): Prediction {
  const byFate = new Map<string, PredictedFate>();
  for (const path of detail.paths) {
    const fate = expectedFate(path, detail.trace.packet.protocol, hosts);
    const known = byFate.get(fate);
    if (known) {
      known.probability += path.probability;
      known.masquerade ||= path.masquerade;
      known.sources.add(path.finalSource);
    } else byFate.set(fate, { fate, probability: path.probability, masquerade: path.masquerade, sources: new Set([path.finalSource]) });
  }
  const sticky = detail.paths.some((p) => p.hops.some((h) => /--rcheck|@affinity-/.test(h.text)));
  return { fates: [...byFate.values()], sticky, uncertain: detail.paths.some((p) => p.uncertain === true) };
}

export function observedFate(o: Observation): string {
  switch (o.outcome) {
    case 'answered':
      return `answered ${o.endpoint}`;
    case 'icmp-error':
      if (/Port Unreachable/i.test(o.detail)) return 'port-unreachable';
      return /Unreachable/i.test(o.detail) ? 'unreachable' : `icmp ${o.detail}`;
    case 'unreachable':
      return 'unreachable';
    case 'error':
      return `error ${o.detail}`;
    default:
      return o.outcome;
  }
}

export interface FlowComparison {
  agree: boolean;
  /** Why not, one sentence each. */
  problems: string[];
  /** e.g. `33.3% answered 10.244.1.5:8080 masq, ...`. */
  predicted: string;
  /** e.g. `70× answered 10.244.1.5:8080 (peer 192.168.0.2, masqueraded), ...`. */
  observed: string;
  chiSquare?: ChiSquare;
}

export function compareFlow(prediction: Prediction, observations: readonly Observation[], clientIP: string): FlowComparison {
  const problems: string[] = [];
  const counts = new Map<string, number>();
  const peersSeen = new Map<string, Map<string, number>>();
  for (const o of observations) {
    const fate = observedFate(o);
    counts.set(fate, (counts.get(fate) ?? 0) + 1);
    if (o.outcome !== 'answered') continue;
    const peers = peersSeen.get(fate) ?? new Map<string, number>();
    peers.set(ipOf(o.peer), (peers.get(ipOf(o.peer)) ?? 0) + 1);
    peersSeen.set(fate, peers);
  }
  const predicted = new Map(prediction.fates.filter((f) => f.probability > 0).map((f) => [f.fate, f]));
  for (const [fate, count] of counts) {
    if (!predicted.has(fate)) problems.push(`the kernel showed "${fate}" (${count}×), the emulator does not predict it`);
  }
  const total = observations.length;
  const independent = !prediction.sticky;
  if (independent) {
    for (const f of predicted.values()) {
      if (f.probability * total >= MUST_APPEAR && !counts.has(f.fate)) problems.push(`predicted "${f.fate}" (${formatPercent(f.probability)}) never happened in ${total} connections`);
    }
  }
  let chiSquare: ChiSquare | undefined;
  if (independent && predicted.size > 1 && total >= MUST_APPEAR * predicted.size && [...counts.keys()].every((f) => predicted.has(f))) {
    const fates = [...predicted.values()];
    const sum = fates.reduce((a, f) => a + f.probability, 0);
    chiSquare = chiSquareTest(fates.map((f) => counts.get(f.fate) ?? 0), fates.map((f) => f.probability / sum));
    if (chiSquare.p < CHI_SQUARE_P_MIN) problems.push(`distribution differs: chi-square ${chiSquare.statistic.toFixed(2)} (${chiSquare.degreesOfFreedom} df), p = ${chiSquare.p.toExponential(2)} < ${CHI_SQUARE_P_MIN}`);
  }
  if (prediction.sticky) {
    const answered = [...counts.keys()].filter((f) => f.startsWith('answered '));
    if (answered.length > 1) problems.push(`session affinity: one client reached ${answered.length} endpoints (${answered.map((f) => f.slice(9)).join(', ')})`);
  }
  // Masquerade as the endpoint sees it: the source address of the connection, the client's or the node's.
  for (const [fate, peers] of peersSeen) {
    const expected = predicted.get(fate);
    if (!expected) continue;
    for (const [peer, count] of peers) {
      if (expected.sources.has(peer)) continue;
      const seen = peer === clientIP ? 'the client address (not masqueraded)' : `${peer} (masqueraded)`;
      problems.push(`${fate}: the endpoint saw ${seen} on ${count} connection(s), the emulator predicts source ${[...expected.sources].join(' or ')}${expected.masquerade ? ' (masquerade)' : ''}`);
    }
  }
  const observed = [...counts]
    .map(([fate, count]) => {
      const peers = [...(peersSeen.get(fate)?.keys() ?? [])];
      const seen = peers.length > 0 ? ` (peer ${peers.join('/')}${peers.some((p) => p !== clientIP) ? ', masqueraded' : ''})` : '';
      return `${total > 1 ? `${count}× ` : ''}${fate}${seen}`;
    })
    .join(', ');
  return {
    agree: problems.length === 0,
    problems,
    predicted: describePrediction(prediction),
    observed,
    ...(chiSquare ? { chiSquare } : {}),
  };
}

export function describePrediction(prediction: Prediction): string {
  const fates = prediction.fates.map((f) => `${prediction.fates.length > 1 ? `${formatPercent(f.probability)} ` : ''}${f.fate}${f.masquerade ? ' masq' : ''}`);
  return `${fates.join(', ')}${prediction.sticky ? ' (affinity)' : ''}${prediction.uncertain ? ' (uncertain)' : ''}`;
}

function formatPercent(p: number): string {
  return `${Math.round(p * 1000) / 10}%`;
}
