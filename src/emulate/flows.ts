/**
 * kube-proxy's flow tables (`../shared/conformance/README.md`, "Flows"): `{name, sourceIP, destIP, destPort,
 * protocol, output, masq}`. A flow is a new connection; its `output` and `masq` are read off a trace:
 * output = every DNAT destination, `", "`-joined in rule order; else the verdict all outcomes share; else "".
 */
import { parseAllDocuments } from 'yaml';
import { parseProto, type PacketSpec } from './packet.js';
import type { Trace } from './trace.js';

export interface Flow {
  name: string;
  sourceIP: string;
  destIP: string;
  destPort: number;
  /** As written (`TCP`, `UDP`, `SCTP`); unset = TCP. */
  protocol: string;
  /** Expected; undefined when the file does not say (trace-only use). */
  output?: string;
  masq?: boolean;
}

export type FlowsResult = { ok: true; flows: Flow[] } | { ok: false; errors: string[] };

export function parseFlows(text: string, file: string): FlowsResult {
  const errors: string[] = [];
  const flows: Flow[] = [];
  const docs = parseAllDocuments(text);
  const list: unknown[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    for (const e of doc.errors) errors.push(`${file}: ${e.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) list.push(...value);
    else if (typeof value === 'object' && Array.isArray((value as { flows?: unknown }).flows)) list.push(...((value as { flows: unknown[] }).flows));
    else errors.push(`${file}: expected a list of flows`);
  }
  list.forEach((item, i) => {
    const where = `${file}: flow ${i + 1}`;
    if (typeof item !== 'object' || item === null) {
      errors.push(`${where}: not a mapping`);
      return;
    }
    const o = item as Record<string, unknown>;
    const name = typeof o.name === 'string' ? o.name : `flow ${i + 1}`;
    const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
    const sourceIP = str('sourceIP');
    const destIP = str('destIP');
    const destPort = typeof o.destPort === 'number' ? o.destPort : Number(o.destPort);
    const protocol = str('protocol') ?? 'TCP';
    if (!sourceIP || !destIP) errors.push(`${where} (${name}): sourceIP and destIP are required`);
    if (!parseProto(protocol)) errors.push(`${where} (${name}): unknown protocol ${protocol}`);
    if (o.output !== undefined && typeof o.output !== 'string') errors.push(`${where} (${name}): output must be a string`);
    if (o.masq !== undefined && typeof o.masq !== 'boolean') errors.push(`${where} (${name}): masq must be true or false`);
    const flow: Flow = { name, sourceIP: sourceIP ?? '', destIP: destIP ?? '', destPort, protocol };
    if (typeof o.output === 'string') flow.output = o.output;
    if (typeof o.masq === 'boolean') flow.masq = o.masq;
    flows.push(flow);
  });
  return errors.length ? { ok: false, errors } : { ok: true, flows };
}

export function flowPacket(flow: Flow): PacketSpec {
  const protocol = parseProto(flow.protocol) ?? 'tcp';
  return {
    protocol,
    source: flow.sourceIP,
    destination: flow.destIP,
    ...(protocol === 'icmp' || protocol === 'icmpv6' ? {} : { destinationPort: flow.destPort }),
  };
}

/** `output` and `masq` as kube-proxy's tracer would print them, from our trace. */
export function flowAnswer(trace: Trace): { output: string; masq: boolean } {
  const dnats: string[] = [];
  for (const o of trace.outcomes) if (o.dnat !== null && !dnats.includes(o.dnat)) dnats.push(o.dnat);
  let output = dnats.join(', ');
  if (output === '') {
    const verdicts = new Set(trace.outcomes.map((o) => o.filterVerdict));
    const only = verdicts.size === 1 ? [...verdicts][0] : undefined;
    output = only ?? '';
  }
  return { output, masq: trace.outcomes.some((o) => o.masquerade) };
}

export interface FlowCheck {
  flow: Flow;
  got: { output: string; masq: boolean };
  pass: boolean;
  /** What differed, in words. */
  problems: string[];
}

export function checkFlow(flow: Flow, trace: Trace): FlowCheck {
  const got = flowAnswer(trace);
  const problems: string[] = [];
  if (flow.output !== undefined && flow.output !== got.output) problems.push(`output: expected ${JSON.stringify(flow.output)}, got ${JSON.stringify(got.output)}`);
  if (flow.masq !== undefined && flow.masq !== got.masq) problems.push(`masq: expected ${flow.masq}, got ${got.masq}`);
  return { flow, got, pass: problems.length === 0, problems };
}
