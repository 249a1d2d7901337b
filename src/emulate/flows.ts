/**
 * kube-proxy's flow tables (`../shared/conformance/README.md`, "Flows"): `{name, sourceIP, destIP, destPort,
 * protocol, output, masq}`. A flow is a new connection; its `output` and `masq` are read off a trace:
 * output = every DNAT destination, `", "`-joined in rule order; else the verdict all outcomes share; else "".
 */
import { z } from 'zod';
import { error, type Diagnostic } from '../diag/diagnostic.js';
import { codedIssues, formatPath } from '../model/issues.js';
import { bool, coded, ip, nullish, port, str } from '../model/schemas.js';
import { parseSource, type ParsedDocument, type Path } from '../model/source.js';
import { parseIP } from '../net/ip.js';
import { hasPorts, parseProto, type PacketSpec } from './packet.js';
import type { Trace } from './trace.js';

export interface Flow {
  name: string;
  sourceIP: string;
  destIP: string;
  /** 0 for a protocol without ports (ICMP). */
  destPort: number;
  /** As written (`TCP`, `UDP`, `SCTP`); unset = TCP. */
  protocol: string;
  /** Expected; undefined when the file does not say (trace-only use). */
  output?: string;
  masq?: boolean;
}

export interface FlowsParse {
  flows: Flow[];
  /** Every problem of the table, at its node; the flows are only usable when none is an error. */
  diagnostics: Diagnostic[];
}

/** One flow; a key that is not one of these is a typo (`destport`) and an error, as in node configs. */
const flowSchema = z.strictObject(
  {
    name: nullish(str()),
    sourceIP: ip(),
    destIP: ip(),
    destPort: nullish(port()),
    protocol: nullish(
      str('E_PROTOCOL').refine((text) => parseProto(text) !== undefined, {
        error: coded('E_PROTOCOL', 'must be TCP, UDP, SCTP or ICMP'),
      }),
    ),
    output: nullish(str()),
    masq: nullish(bool()),
  },
  { error: coded('E_FIELD', 'must be a mapping (a flow)') },
);

/**
 * A flow table: YAML or JSON, a list of flows or a mapping with a `flows` list, in one or more documents.
 * Every error of every flow is reported at its node, with a code, as manifest errors are.
 */
export function parseFlows(text: string, file: string): FlowsParse {
  const parsed = parseSource({ file, text });
  const diagnostics = [...parsed.diagnostics];
  const flows: Flow[] = [];
  for (const doc of parsed.documents) {
    const value = doc.value;
    if (value === null || value === undefined) continue;
    const listPath: Path = Array.isArray(value) ? [] : ['flows'];
    const list: unknown = Array.isArray(value) ? value : (value as { flows?: unknown }).flows;
    if (!Array.isArray(list)) {
      diagnostics.push(error('E_FIELD', 'expected a list of flows (or a mapping with a flows list)', doc.locate([])));
      continue;
    }
    list.forEach((item, i) => {
      const flow = readFlow(item, doc, [...listPath, i], flows.length + 1, diagnostics);
      if (flow) flows.push(flow);
    });
  }
  return { flows, diagnostics };
}

function readFlow(item: unknown, doc: ParsedDocument, path: Path, number: number, diagnostics: Diagnostic[]): Flow | undefined {
  const report = (code: string, at: Path, message: string, key = false) =>
    diagnostics.push(error(code, `${formatPath(at)}${message}`, doc.locate([...path, ...at], { key })));
  const result = flowSchema.safeParse(item);
  if (!result.success) {
    for (const issue of codedIssues(result.error.issues)) report(issue.code, issue.path, issue.message, issue.key);
    return undefined;
  }
  const data = result.data;
  const protocol = data.protocol ?? 'TCP';
  const source = parseIP(data.sourceIP, { sloppy: true });
  const destination = parseIP(data.destIP, { sloppy: true });
  let ok = true;
  if (source && destination && source.family !== destination.family) {
    report('E_INVALID_IP', ['destIP'], `is IPv${destination.family}, sourceIP is IPv${source.family}`);
    ok = false;
  }
  const withPorts = hasPorts(parseProto(protocol) ?? 'tcp');
  if (withPorts && data.destPort == null) {
    report('E_FIELD', ['destPort'], `required for ${protocol}`);
    ok = false;
  }
  if (!ok) return undefined;
  const flow: Flow = {
    name: data.name ?? `flow ${number}`,
    sourceIP: data.sourceIP,
    destIP: data.destIP,
    destPort: withPorts ? (data.destPort ?? 0) : 0,
    protocol,
  };
  if (data.output != null) flow.output = data.output;
  if (data.masq != null) flow.masq = data.masq;
  return flow;
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
