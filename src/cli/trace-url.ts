/**
 * `kproxy trace --url http://host/path [--from outside|pod|node]`: one HTTP request through an Ingress, end to
 * end (src/ingress/trace.ts). The node, its rules and the emulator come from `prepareNode`, exactly as for a
 * packet trace, so `--mode nftables`, `--rules` and the node flags work the same way.
 */
import type { Origin } from '../emulate/packet.js';
import { explainTrace } from '../emulate/explain.js';
import { explainUrlTrace } from '../ingress/explain.js';
import { traceUrl, type UrlRequest } from '../ingress/trace.js';
import { usage } from './compile.js';
import { defaultSource, prepareNode, traceWith, type TraceCommandOptions, type TraceIO } from './trace.js';

const ORIGINS: Record<string, Origin> = { outside: 'external', external: 'external', pod: 'pod', node: 'node' };

/** Options that describe a single packet or a batch; they have no meaning with --url. */
const PACKET_OPTIONS = ['dst', 'dport', 'sport', 'proto', 'flows', 'connections'] as const;

export async function runTraceUrl(inputs: readonly string[], options: TraceCommandOptions & { url: string }, io: TraceIO): Promise<number> {
  const clash = PACKET_OPTIONS.find((o) => options[o] !== undefined);
  if (clash) return usage(io, `--url traces an HTTP request: --${clash} cannot be combined with it`);
  if (options.mode === 'both') return usage(io, '--url traces one proxy mode at a time: --mode iptables or nftables');
  if (options.format === 'mermaid') return usage(io, '--format mermaid draws one packet: not with --url');
  const from = ORIGINS[options.from ?? 'outside'];
  if (!from) return usage(io, '--from must be outside (or external), pod or node with --url');
  const request = parseUrl(options.url);
  if ('error' in request) return usage(io, request.error);

  const prepared = prepareNode(inputs, options, io);
  if (!prepared.ok) return prepared.exitCode;
  const node = prepared.node;
  if (!node.cluster) return usage(io, '--url needs the manifests (Ingresses, Services, Pods), not only --rules');
  const notes = [...node.notes];
  const chooseSource = (destination: string): string => {
    if (options.src !== undefined) return options.src;
    const chosen = defaultSource(node, from, destination) ?? { ip: node.config.nodeIP, why: "no pod address is known: this node's IP" };
    notes.push(`no --src given: using ${chosen.ip} (${chosen.why})`);
    return chosen.ip;
  };
  const result = traceUrl({
    request,
    from,
    cluster: node.cluster,
    node: node.config,
    source: chooseSource,
    tracePacket: (spec) => traceWith(node.emu, spec),
  });
  if ('error' in result) {
    io.stderr(`kproxy: ${result.error}\n`);
    return 1;
  }
  if (options.json) {
    io.stdout(`${JSON.stringify(result.trace, null, 2)}\n`);
    return 0;
  }
  const hop2 = result.detail && explainTrace(result.detail, node.emu, { cluster: node.cluster, notes });
  io.stdout(explainUrlTrace(result, hop2));
  return 0;
}

function parseUrl(text: string): UrlRequest | { error: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { error: `--url ${JSON.stringify(text)} is not a URL (write it as http://host/path)` };
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme !== 'http' && scheme !== 'https') return { error: `--url must be http:// or https://, not ${scheme}://` };
  return {
    url: text,
    scheme,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    path: url.pathname || '/',
    urlPort: url.port === '' ? undefined : Number(url.port),
  };
}
