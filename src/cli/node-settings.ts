/**
 * Node settings for a command, from lowest to highest priority: kube-proxy's defaults (node name = host
 * name, NodePort addresses per mode), the folder's node.yaml or --node-config, --config (a KubeProxyConfiguration), then the flags.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Diagnostic } from '../diag/diagnostic.js';
import {
  nodeConfigFromFlags,
  parseKubeProxyConfiguration,
  parseNodeConfig,
  resolveNodeConfig,
  type NodeConfig,
  type NodeConfigLayer,
  type NodeFlags,
} from '../model/node-config.js';

export interface NodeSettingsOptions extends NodeFlags {
  nodeConfig?: string;
  config?: string;
  /** Proxy mode: nftables mode's default nodePortAddresses differ from iptables mode's. */
  mode?: string;
}

export type NodeSettingsResult =
  | { ok: true; config: NodeConfig; diagnostics: Diagnostic[] }
  | { ok: false; usageError?: string; diagnostics: Diagnostic[] };

export function resolveNodeSettings(options: NodeSettingsOptions, folderNodeConfig: string | undefined): NodeSettingsResult {
  // kube-proxy's defaults: the host name; in nftables mode NodePorts only on the primary node IPs
  // (cmd/kube-proxy turns an empty --nodeport-addresses into `primary` there), in iptables mode on all.
  const layers: NodeConfigLayer[] = [
    { nodeName: hostname().toLowerCase(), ...(options.mode === 'nftables' ? { nodePortAddresses: ['primary'] } : {}) },
  ];
  const diagnostics: Diagnostic[] = [];
  const files: [string | undefined, typeof parseNodeConfig][] = [
    [options.nodeConfig ?? folderNodeConfig, parseNodeConfig],
    [options.config, parseKubeProxyConfiguration],
  ];
  for (const [file, parse] of files) {
    if (file === undefined) continue;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return { ok: false, usageError: `cannot read ${file}`, diagnostics };
    }
    const parsed = parse(text, file);
    layers.push(parsed.layer);
    diagnostics.push(...parsed.diagnostics);
  }
  const flags = nodeConfigFromFlags(options);
  layers.push(flags.layer);
  diagnostics.push(...flags.diagnostics);
  if (diagnostics.some((d) => d.severity === 'error')) return { ok: false, diagnostics };
  return { ok: true, config: resolveNodeConfig(...layers), diagnostics };
}
