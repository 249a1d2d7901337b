/**
 * A trace in plain words: hop by hop (hook, table, chain, rule number, rule text, matched or the first condition
 * that failed, what the rule did), long runs of rules that did not match folded into one line, then one line
 * per outcome. Paths that share a beginning are printed once; later paths start where they part.
 */
import type { Cluster } from '../cluster/types.js';
import { formatProbability } from './evaluate.js';
import { describePod } from './node.js';
import { describePacket, hasPorts } from './packet.js';
import type { Emulator, Hop, PathOutcome, TimelineStep, TraceDetail } from './trace.js';

export interface ExplainOptions {
  /** The manifests the rules came from, to name Services in the ICMP explanation. */
  cluster?: Cluster;
  /** Extra lines printed under the header (how the destination was resolved, defaults chosen, ...). */
  notes?: string[];
  /** Replaces the closing remarks (the nftables emulator gives its own for ICMP to a ClusterIP). */
  afterword?: string[];
}

/** What the explanation needs of an emulator: the node, and (iptables mode) the compiled rules. */
export type ExplainedEmulator = Pick<Emulator, 'node'> & Partial<Pick<Emulator, 'rules'>>;

/** Runs of at least this many non-matching rules in one chain are folded into one line. */
const FOLD_AT = 6;

export function explainTrace(detail: TraceDetail, emu: ExplainedEmulator, options: ExplainOptions = {}): string {
  const lines: string[] = [];
  const origin = detail.origin === 'node' ? 'from the node itself' : detail.origin === 'pod' ? 'from a pod' : 'from outside the node';
  lines.push(`Packet: ${describePacket(detail.packet)}, ${origin} (${detail.trace.mode} mode, node ${emu.node.name || '(unnamed)'})`);
  for (const note of [...(options.notes ?? []), ...detail.notes]) lines.push(`  ${note}`);
  const paths = detail.paths;
  paths.forEach((path, i) => {
    lines.push('');
    const title = paths.length === 1 ? 'Path' : `Path ${i + 1} of ${paths.length} (probability ${formatProbability(path.probability)})`;
    let from = 0;
    if (i > 0) {
      const prev = paths[i - 1] as PathOutcome;
      from = commonPrefix(prev.timeline, path.timeline);
      const last = lastHop(path.timeline, from);
      lines.push(last ? `${title}: as path ${i} up to ${last.table} ${last.chain} #${last.rule}, then:` : `${title}:`);
    } else lines.push(`${title}:`);
    lines.push(...renderTimeline(path.timeline.slice(from)));
    lines.push(`  ⇒ ${path.endReason}`);
  });
  lines.push('', paths.length === 1 ? 'Outcome:' : 'Outcomes:');
  for (const path of paths) lines.push(`  ${outcomeLine(path)}`);
  const uncertain = paths.filter((p) => p.uncertain);
  if (uncertain.length > 0) {
    lines.push('', 'Uncertain: these rules use matches or targets the emulator does not model, so the real outcome may differ:');
    for (const u of new Set(uncertain.flatMap((p) => p.unsupported ?? []))) lines.push(`  - ${u}`);
  }
  const extra = options.afterword ?? afterword(detail, emu, options);
  if (extra.length) lines.push('', ...extra);
  return `${lines.join('\n')}\n`;
}

function sameStep(a: TimelineStep | undefined, b: TimelineStep | undefined): boolean {
  if (!a || !b) return false;
  if ('event' in a || 'event' in b) return 'event' in a && 'event' in b && a.event === b.event;
  const x = a.hop;
  const y = b.hop;
  return x.hook === y.hook && x.table === y.table && x.chain === y.chain && x.rule === y.rule && x.matched === y.matched && x.reason === y.reason;
}

function commonPrefix(a: TimelineStep[], b: TimelineStep[]): number {
  let n = 0;
  while (n < a.length && n < b.length && sameStep(a[n], b[n])) n++;
  return n;
}

function lastHop(timeline: TimelineStep[], end: number): Hop | undefined {
  for (let i = end - 1; i >= 0; i--) {
    const s = timeline[i] as TimelineStep;
    if ('hop' in s) return s.hop;
  }
  return undefined;
}

function hookLabel(h: Hop): string {
  return `${h.hook.padEnd(11)} ${h.table.padEnd(6)} ${h.chain}`;
}

function renderTimeline(steps: TimelineStep[]): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < steps.length) {
    const s = steps[i] as TimelineStep;
    if ('event' in s) {
      out.push(`  · ${s.event}`);
      i++;
      continue;
    }
    const h = s.hop;
    if (!h.matched) {
      // Gather the run of misses in this chain (index summaries included).
      let j = i;
      let count = 0;
      const reasons: string[] = [];
      while (j < steps.length) {
        const t = steps[j] as TimelineStep;
        if (!('hop' in t) || t.hop.matched || t.hop.chain !== h.chain || t.hop.table !== h.table || t.hop.hook !== h.hook) break;
        count += t.hop.skipped ?? 1;
        if (t.hop.skipped === undefined) reasons.push(t.hop.reason);
        j++;
      }
      const runHops = steps.slice(i, j).map((t) => (t as { hop: Hop }).hop);
      if (count >= FOLD_AT || runHops.some((x) => x.skipped !== undefined)) {
        const first = runHops[0] as Hop;
        const lastH = runHops[runHops.length - 1] as Hop;
        const lastRule = lastH.rule + (lastH.skipped ?? 1) - 1;
        out.push(`  ${hookLabel(first)} #${first.rule}–#${lastRule}: ${summarizeMisses(count, reasons, runHops)}`);
      } else {
        for (const x of runHops) {
          out.push(`  ${hookLabel(x)} #${x.rule}: no match — ${x.reason}`);
          out.push(`      ${x.text}`);
        }
      }
      i = j;
      continue;
    }
    out.push(`  ${hookLabel(h)} #${h.rule}: matched (${h.reason}) → ${h.action}`);
    if (h.text) out.push(`      ${h.text}`);
    i++;
  }
  return out;
}

function summarizeMisses(count: number, reasons: string[], hops: Hop[]): string {
  const n = count.toLocaleString('en-US');
  const allDest = reasons.every((r) => /^destination \S+ is not (in )?/.test(r)) && hops.every((h) => h.skipped === undefined || /destinations/.test(h.reason));
  const allPort = hops.every((h) => (h.skipped !== undefined && /ports/.test(h.reason)) || /^destination port is/.test(h.reason));
  if (allDest) return `${n} rules for other destinations did not match`;
  if (allPort) return `${n} rules for other destination ports did not match`;
  return `${n} rules did not match${reasons[0] ? ` (the first because ${reasons[0]})` : ''}`;
}

function outcomeLine(p: PathOutcome): string {
  const pr = formatProbability(p.probability).padStart(7);
  const dest = p.dnat ? `to ${p.dnat} (DNAT)` : `to ${p.finalDestination} (not translated)`;
  const masq = p.masqueradeFailed
    ? 'to be masqueraded, but with no address to use'
    : p.masquerade
      ? `masqueraded (source becomes ${p.finalSource})`
      : `source ${p.finalSource} kept`;
  let where: string;
  switch (p.result) {
    case 'delivered': {
      where = `delivered to ${describePod(p.route?.pod)}${p.route ? ` via ${p.route.iface}` : ''}`;
      break;
    }
    case 'local':
      where = "delivered to the node's own network stack";
      break;
    case 'forwarded':
      where = `leaves the node${p.route ? ` on ${p.route.iface}` : ''}${p.route?.via ? ` toward ${p.route.via}` : ''}${p.route?.kind === 'remote-pod' && p.route.pod ? ` (${describePod(p.route.pod)})` : ''}`;
      break;
    case 'dropped':
      where = `dropped: ${p.endReason}`;
      break;
    case 'rejected':
      where = p.endReason;
      break;
    case 'unreachable':
      where = `unreachable: ${p.endReason}`;
      break;
  }
  const verdict = p.filterVerdict && p.result !== 'dropped' && p.result !== 'rejected' ? ` [filter ${p.filterVerdict}]` : '';
  return `${pr}  ${dest}, ${masq}: ${where}${verdict}${p.uncertain ? ' (uncertain)' : ''}`;
}

/** Extra words for the cases learners ask about: ping to a ClusterIP, replies from pods and nodes. */
function afterword(detail: TraceDetail, emu: ExplainedEmulator, options: ExplainOptions): string[] {
  const pkt = detail.packet;
  if (hasPorts(pkt.protocol)) return [];
  const dst = pkt.dst;
  const svcRules = [...(emu.rules?.tables.get('nat')?.chains.get('KUBE-SERVICES')?.rules ?? []), ...(emu.rules?.tables.get('filter')?.chains.get('KUBE-SERVICES')?.rules ?? [])].filter(
    (r) => r.destinationKey === dst.text,
  );
  const service = options.cluster?.services.find((s) => s.clusterIP === dst.text || s.clusterIPs.includes(dst.text));
  const isClusterIP = service !== undefined || svcRules.length > 0 || emu.node.serviceCIDRs.some((c) => c.family === dst.family && (dst.value & maskOf(c.prefix, dst.family)) === c.network);
  if (isClusterIP) {
    const ports = [...new Set(svcRules.map((r) => /-p (\w+).*--dport (\d+)/.exec(r.text)).filter((m) => m).map((m) => `${(m as RegExpExecArray)[1]} port ${(m as RegExpExecArray)[2]}`))];
    const named = service ? ` (Service ${service.namespace}/${service.name})` : '';
    const out = [
      `Why there is no reply: ${dst.text}${named} is a ClusterIP. In iptables mode a ClusterIP is not an address of any`,
      `interface on any node; it exists only as a match in kube-proxy's nat rules, and every one of those rules needs`,
      `tcp, udp or sctp and a destination port${ports.length ? ` (here: ${ports.join(', ')})` : ''}. An ICMP echo request matches none of them, is`,
      `not translated, and, not being a local address, follows the routing table off the node, where nothing answers.`,
      `(In IPVS mode the ClusterIP is bound to the kube-ipvs0 interface, which is why ping may work there.)`,
    ];
    const example = ports[0]?.split(' port ');
    out.push(
      example
        ? `Try the Service port instead: kproxy trace … --dst ${dst.text} --proto ${example[0]} --dport ${example[1]}, or from a pod \`nc -zv ${dst.text} ${example[1]}\`${example[0] === 'tcp' ? ` / \`curl http://${dst.text}:${example[1]}/\`` : ''}.`
        : `Try the Service's port with TCP or UDP instead (kproxy trace … --proto tcp --dport PORT).`,
    );
    return out;
  }
  const last = detail.paths[0];
  if (last?.result === 'delivered') return [`The pod answers the echo request: its reply goes back through conntrack as an ESTABLISHED packet.`];
  if (last?.result === 'local') return [`The node answers the echo request itself.`];
  return [];
}

function maskOf(prefix: number, family: 4 | 6): bigint {
  const bits = family === 4 ? 32n : 128n;
  const all = (1n << bits) - 1n;
  return prefix === 0 ? 0n : all ^ ((1n << (bits - BigInt(prefix))) - 1n);
}
