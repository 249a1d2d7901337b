/**
 * Node and proxier settings: everything besides the cluster objects that changes the rules kube-proxy writes.
 * Field names follow `../shared/conformance/README.md` (the `--node-config` file format).
 */
import { z } from 'zod';
import { error, hasErrors, type Diagnostic } from '../diag/diagnostic.js';
import { hostCIDR, parseCIDR, parseIP, type IPFamily } from '../net/ip.js';
import { codedIssues, formatPath } from './issues.js';
import { isDNS1123Subdomain, isInterfaceName } from './names.js';
import { parseSource, type ParsedDocument, type Path } from './source.js';

export type LocalDetectorMode = 'ClusterCIDR' | 'NodeCIDR' | 'BridgeInterface' | 'InterfaceNamePrefix' | 'None';

export interface LocalDetector {
  mode: LocalDetectorMode;
  /** Pod CIDR(s) of the whole cluster, for ClusterCIDR mode. */
  clusterCIDR?: string;
  /** This node's pod CIDR, for NodeCIDR mode. */
  nodeCIDR?: string;
  /** Bridge the pods hang off, for BridgeInterface mode (`-i cbr0`). */
  bridgeInterface?: string;
  /** Pod interface name prefix, for InterfaceNamePrefix mode (`-i veth+`). */
  interfacePrefix?: string;
}

export interface NodeConfig {
  /** 4 writes the iptables payload, 6 the ip6tables one. */
  ipFamily: IPFamily;
  /** Endpoints whose `nodeName` equals this are local. */
  nodeName: string;
  /** The node's primary IP (LoadBalancer source-range `allowFromNode`); may be empty. */
  nodeIP: string;
  /** Every address that is LOCAL on the node (127.0.0.1 and ::1 are always LOCAL as well). */
  nodeIPs: string[];
  /** Interface name -> CIDRs assigned to it; used to resolve `nodePortAddresses`. */
  interfaces: Record<string, string[]>;
  localDetector: LocalDetector;
  /** Pod CIDR of the cluster (routes to other nodes' pods in the emulator); may be empty. */
  clusterCIDR: string;
  /** Service CIDRs (nftables `cluster-ips-check`, emulator routing); may be empty. */
  serviceCIDRs: string[];
  masqueradeAll: boolean;
  masqueradeBit: number;
  /** The literal mark string written in rules: `0x00004000` on a real node, `0x4000` in kube-proxy's tests. */
  masqueradeMark: string;
  /** CIDRs whose node addresses accept NodePorts; empty = all. */
  nodePortAddresses: string[];
  localhostNodePorts: boolean;
  /** The iptables binary supports `MASQUERADE --random-fully`. */
  hasRandomFully: boolean;
  /** `nf_conntrack_tcp_be_liberal` is set: no INVALID drop rule. */
  conntrackTCPLiberal: boolean;
  /** Which nfacct objects exist on the node (kube-proxy adds `-m nfacct` matches only for those). */
  nfacctCounters: {
    ct_state_invalid_dropped_pkts: boolean;
    localhost_nps_accepted_pkts: boolean;
  };
  /** Go duration text, e.g. `30s`, `1h0m0s`. */
  syncPeriod: string;
}

/** Go's `fmt.Sprintf("%#08x", 1<<bit)`: the digits are zero-padded to 8, then `0x` is prefixed. */
export function markForBit(bit: number): string {
  return `0x${(2 ** bit).toString(16).padStart(8, '0')}`;
}

// ---------------------------------------------------------------------------------------------------------
// Reading node settings: the --node-config file, a KubeProxyConfiguration, flags; then defaults.

/**
 * Node settings from one source (a file, the flags). Layers are merged by `resolveNodeConfig`, later layers
 * winning field by field (`localDetector` and `nfacctCounters` per subfield). `clusterCIDR` may be a
 * comma-separated dual-stack pair, as in a KubeProxyConfiguration; the config family's CIDR is used.
 */
export interface NodeConfigLayer {
  ipFamily?: IPFamily;
  nodeName?: string;
  nodeIP?: string;
  nodeIPs?: string[];
  interfaces?: Record<string, string[]>;
  localDetector?: Partial<LocalDetector>;
  clusterCIDR?: string;
  serviceCIDRs?: string[];
  masqueradeAll?: boolean;
  masqueradeBit?: number;
  masqueradeMark?: string;
  /** CIDRs, or `primary` (the node's primary IPs), as kube-proxy's --nodeport-addresses accepts. */
  nodePortAddresses?: string[];
  localhostNodePorts?: boolean;
  hasRandomFully?: boolean;
  conntrackTCPLiberal?: boolean;
  nfacctCounters?: Partial<NodeConfig['nfacctCounters']>;
  syncPeriod?: string;
}

export interface NodeConfigParse {
  layer: NodeConfigLayer;
  diagnostics: Diagnostic[];
}

/** The `--node-config` format of ../shared/conformance/README.md; unknown keys are E_CONFIG_KEY errors. */
export function parseNodeConfig(text: string, file: string): NodeConfigParse {
  return parseConfigDocument(text, file, (doc, ctx) => {
    const data = ctx.parse(nodeConfigSchema, doc.value);
    if (!data) return {};
    const layer: NodeConfigLayer = {};
    if (data.ipFamily != null) layer.ipFamily = data.ipFamily === 'IPv4' ? 4 : 6;
    if (data.nodeName != null) layer.nodeName = data.nodeName;
    if (data.nodeIP != null) layer.nodeIP = data.nodeIP;
    if (data.nodeIPs != null) layer.nodeIPs = data.nodeIPs;
    if (data.interfaces != null) layer.interfaces = data.interfaces;
    if (data.localDetector != null) {
      const d = data.localDetector;
      const missing = missingInterface(d.mode, d.bridgeInterface, d.interfacePrefix, 'localDetector.bridgeInterface', 'localDetector.interfacePrefix');
      if (missing) ctx.error('E_FIELD', ['localDetector', 'mode'], missing);
      layer.localDetector = dropNullish(d);
    }
    if (data.clusterCIDR != null) layer.clusterCIDR = data.clusterCIDR;
    if (data.serviceCIDRs != null) layer.serviceCIDRs = data.serviceCIDRs;
    if (data.masqueradeAll != null) layer.masqueradeAll = data.masqueradeAll;
    if (data.masqueradeBit != null) layer.masqueradeBit = data.masqueradeBit;
    if (data.masqueradeMark != null) {
      // An unquoted 0x4000 is a YAML integer; the rules need the text as written.
      const raw = typeof data.masqueradeMark === 'number' ? doc.raw(['masqueradeMark']) : data.masqueradeMark;
      if (raw === undefined || !/^0x[0-9a-fA-F]{1,8}$/.test(raw)) {
        ctx.error('E_FIELD', ['masqueradeMark'], 'must be a hexadecimal mark such as 0x00004000');
      } else {
        layer.masqueradeMark = raw;
      }
    }
    if (data.nodePortAddresses != null) layer.nodePortAddresses = data.nodePortAddresses;
    if (data.localhostNodePorts != null) layer.localhostNodePorts = data.localhostNodePorts;
    if (data.hasRandomFully != null) layer.hasRandomFully = data.hasRandomFully;
    if (data.conntrackTCPLiberal != null) layer.conntrackTCPLiberal = data.conntrackTCPLiberal;
    if (data.nfacctCounters != null) layer.nfacctCounters = dropNullish(data.nfacctCounters);
    if (data.syncPeriod != null) layer.syncPeriod = data.syncPeriod;
    return layer;
  });
}

/**
 * A real `kubeproxy.config.k8s.io/v1alpha1` KubeProxyConfiguration (or the kube-proxy ConfigMap that holds one
 * under `data["config.conf"]`). The fields kproxy shares are mapped; the other fields of that kind are
 * accepted and ignored; keys that are not fields of the kind are errors, as kube-proxy's strict decoding does.
 */
export function parseKubeProxyConfiguration(text: string, file: string): NodeConfigParse {
  const embedded = configMapPayload(text, file);
  if (embedded) return embedded;
  return parseConfigDocument(text, file, (doc, ctx) => {
    const data = ctx.parse(kubeProxyConfigurationSchema, doc.value);
    if (!data) return {};
    const layer: NodeConfigLayer = {};
    if (data.hostnameOverride) layer.nodeName = data.hostnameOverride.trim().toLowerCase();
    if (data.clusterCIDR) layer.clusterCIDR = data.clusterCIDR;
    const detector: Partial<LocalDetector> = {};
    const missing = missingInterface(data.detectLocalMode, data.detectLocal?.bridgeInterface, data.detectLocal?.interfaceNamePrefix, 'detectLocal.bridgeInterface', 'detectLocal.interfaceNamePrefix');
    if (missing) ctx.error('E_FIELD', ['detectLocalMode'], missing);
    if (data.detectLocalMode) detector.mode = data.detectLocalMode;
    if (data.detectLocal?.bridgeInterface) detector.bridgeInterface = data.detectLocal.bridgeInterface;
    if (data.detectLocal?.interfaceNamePrefix) detector.interfacePrefix = data.detectLocal.interfaceNamePrefix;
    if (Object.keys(detector).length > 0) layer.localDetector = detector;
    const iptables = data.iptables ?? undefined;
    if (iptables?.masqueradeAll != null) layer.masqueradeAll = iptables.masqueradeAll;
    if (iptables?.masqueradeBit != null) layer.masqueradeBit = iptables.masqueradeBit;
    if (iptables?.localhostNodePorts != null) layer.localhostNodePorts = iptables.localhostNodePorts;
    const syncPeriod = data.syncPeriod ?? iptables?.syncPeriod;
    if (syncPeriod != null) layer.syncPeriod = syncPeriod;
    if (data.nodePortAddresses != null) layer.nodePortAddresses = data.nodePortAddresses;
    if (data.conntrack?.tcpBeLiberal != null) layer.conntrackTCPLiberal = data.conntrack.tcpBeLiberal;
    return layer;
  });
}

/** kube-proxy refuses to start with an interface-based detector and no interface to match: why, or undefined. */
function missingInterface(
  mode: string | null | undefined,
  bridge: string | null | undefined,
  prefix: string | null | undefined,
  bridgeKey: string,
  prefixKey: string,
): string | undefined {
  if (mode === 'BridgeInterface' && !bridge) return `BridgeInterface needs ${bridgeKey} (the bridge the pods hang off, such as cbr0)`;
  if (mode === 'InterfaceNamePrefix' && !prefix) return `InterfaceNamePrefix needs ${prefixKey} (such as veth)`;
  return undefined;
}

export interface NodeFlags {
  nodeName?: string;
  nodeIP?: string;
  clusterCIDR?: string;
  masqueradeAll?: boolean;
  /** Comma-separated CIDRs (or `primary`). */
  nodePortAddresses?: string;
}

/**
 * The CLI flags as the last layer. Diagnostics name the flag instead of a file (line 0). `--node-ip` also sets
 * the IP family, as kube-proxy takes its primary family from the node IP; `--cluster-cidr` also feeds the
 * ClusterCIDR detector.
 */
export function nodeConfigFromFlags(flags: NodeFlags): NodeConfigParse {
  const layer: NodeConfigLayer = {};
  const diagnostics: Diagnostic[] = [];
  const bad = (code: string, flag: string, message: string) => diagnostics.push(error(code, message, { file: flag, line: 0, col: 0 }));
  if (flags.nodeName !== undefined) {
    const name = flags.nodeName.trim().toLowerCase();
    if (isDNS1123Subdomain(name)) layer.nodeName = name;
    else bad('E_NAME', '--node-name', `${JSON.stringify(flags.nodeName)} is not a DNS-1123 subdomain`);
  }
  if (flags.nodeIP !== undefined) {
    const ip = parseIP(flags.nodeIP);
    if (ip) {
      layer.nodeIP = ip.text;
      layer.ipFamily = ip.family;
    } else bad('E_INVALID_IP', '--node-ip', `${JSON.stringify(flags.nodeIP)} is not an IP address`);
  }
  if (flags.clusterCIDR !== undefined) {
    if (flags.clusterCIDR.split(',').every((c) => parseCIDR(c.trim()) !== undefined)) {
      layer.clusterCIDR = flags.clusterCIDR;
      layer.localDetector = { clusterCIDR: flags.clusterCIDR };
    } else bad('E_INVALID_IP', '--cluster-cidr', `${JSON.stringify(flags.clusterCIDR)} is not a CIDR (or a comma-separated pair)`);
  }
  if (flags.masqueradeAll !== undefined) layer.masqueradeAll = flags.masqueradeAll;
  if (flags.nodePortAddresses !== undefined) {
    const list = flags.nodePortAddresses.split(',').map((c) => c.trim()).filter((c) => c !== '');
    if (list.every((c) => c === 'primary' || parseCIDR(c) !== undefined)) layer.nodePortAddresses = list;
    else bad('E_INVALID_IP', '--nodeport-addresses', `${JSON.stringify(flags.nodePortAddresses)} is not a list of CIDRs`);
  }
  return { layer, diagnostics };
}

/** Merges layers (later wins) and fills in what a real kube-proxy would use for everything left unset. */
export function resolveNodeConfig(...layers: NodeConfigLayer[]): NodeConfig {
  const m: NodeConfigLayer = {};
  let markFromBit = true;
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer) as [keyof NodeConfigLayer, unknown][]) {
      if (v === undefined) continue;
      if (k === 'localDetector' || k === 'nfacctCounters') {
        (m as Record<string, unknown>)[k] = { ...(m[k] ?? {}), ...(v as object) };
      } else {
        (m as Record<string, unknown>)[k] = v;
      }
    }
    // The mark follows whichever of masqueradeMark / masqueradeBit the latest layer set.
    if (layer.masqueradeMark !== undefined) markFromBit = false;
    else if (layer.masqueradeBit !== undefined) markFromBit = true;
  }
  const ipFamily = m.ipFamily ?? 4;
  const ofFamily = (text: string) => parseIP(text)?.family === ipFamily;
  const nodeIPs = m.nodeIPs ?? (m.nodeIP ? [m.nodeIP] : []);
  const nodeIP = m.nodeIP ?? nodeIPs.find(ofFamily) ?? '';
  const pickCIDR = (list: string | undefined) =>
    (list ?? '').split(',').map((c) => c.trim()).find((c) => parseCIDR(c, { sloppy: true })?.family === ipFamily) ?? '';
  const clusterCIDR = m.clusterCIDR?.includes(',') ? pickCIDR(m.clusterCIDR) : (m.clusterCIDR ?? '');

  const given = m.localDetector ?? {};
  const localDetector: LocalDetector = { mode: given.mode ?? (clusterCIDR ? 'ClusterCIDR' : 'None') };
  if (localDetector.mode === 'ClusterCIDR') {
    const cidr = given.clusterCIDR ? pickCIDR(given.clusterCIDR) : clusterCIDR;
    // kube-proxy falls back to a no-op detector when it has no CIDR for the family.
    if (cidr) localDetector.clusterCIDR = cidr;
    else localDetector.mode = 'None';
  }
  if (given.nodeCIDR) localDetector.nodeCIDR = given.nodeCIDR;
  if (given.bridgeInterface) localDetector.bridgeInterface = given.bridgeInterface;
  if (given.interfacePrefix) localDetector.interfacePrefix = given.interfacePrefix;

  const masqueradeBit = m.masqueradeBit ?? 14;
  const hostRoutes = (ips: string[]) => ips.flatMap((text) => { const ip = parseIP(text); return ip ? [hostCIDR(ip).text] : []; });
  const primary = [nodeIP, nodeIPs.find((text) => parseIP(text) !== undefined && !ofFamily(text))].filter((x): x is string => !!x);
  return {
    ipFamily,
    nodeName: m.nodeName ?? '',
    nodeIP,
    nodeIPs,
    interfaces: m.interfaces ?? { lo: ['127.0.0.1/8', '::1/128'], eth0: hostRoutes(nodeIPs) },
    localDetector,
    clusterCIDR,
    serviceCIDRs: m.serviceCIDRs ?? [],
    masqueradeAll: m.masqueradeAll ?? false,
    masqueradeBit,
    masqueradeMark: !markFromBit && m.masqueradeMark ? m.masqueradeMark : markForBit(masqueradeBit),
    nodePortAddresses: (m.nodePortAddresses ?? []).flatMap((c) => (c === 'primary' ? hostRoutes(primary) : [c])),
    localhostNodePorts: m.localhostNodePorts ?? true,
    hasRandomFully: m.hasRandomFully ?? true,
    conntrackTCPLiberal: m.conntrackTCPLiberal ?? false,
    nfacctCounters: {
      ct_state_invalid_dropped_pkts: m.nfacctCounters?.ct_state_invalid_dropped_pkts ?? true,
      localhost_nps_accepted_pkts: m.nfacctCounters?.localhost_nps_accepted_pkts ?? true,
    },
    syncPeriod: m.syncPeriod ?? '30s',
  };
}

// ---------------------------------------------------------------------------------------------------------

interface ConfigContext {
  parse<T>(schema: z.ZodType<T>, value: unknown): T | undefined;
  error(code: string, path: Path, message: string): void;
}

function parseConfigDocument(
  text: string,
  file: string,
  read: (doc: ParsedDocument, ctx: ConfigContext) => NodeConfigLayer,
): NodeConfigParse {
  const parsed = parseSource({ file, text });
  const diagnostics = [...parsed.diagnostics];
  if (parsed.documents.length !== 1 || !parsed.documents[0]) {
    if (diagnostics.length === 0) {
      const message = parsed.documents.length === 0 ? 'the file holds no settings' : 'expected one YAML document';
      diagnostics.push(error('E_FIELD', message, { file, line: 1, col: 1 }));
    }
    return { layer: {}, diagnostics };
  }
  const doc = parsed.documents[0];
  const ctx: ConfigContext = {
    parse(schema, value) {
      const result = schema.safeParse(value);
      if (result.success) return result.data;
      for (const issue of codedIssues(result.error.issues)) {
        diagnostics.push(error(issue.code, `${formatPath(issue.path)}${issue.message}`, doc.locate(issue.path, { key: issue.key })));
      }
      return undefined;
    },
    error(code, path, message) {
      diagnostics.push(error(code, `${formatPath(path)}${message}`, doc.locate(path)));
    },
  };
  const layer = read(doc, ctx);
  return { layer: hasErrors(diagnostics) ? {} : layer, diagnostics };
}

/** `kubectl get cm kube-proxy -o yaml`: the configuration is a string under data["config.conf"]. */
function configMapPayload(text: string, file: string): NodeConfigParse | undefined {
  const parsed = parseSource({ file, text });
  const doc = parsed.documents[0];
  const value = doc?.value as { kind?: unknown; data?: Record<string, unknown> } | undefined;
  if (!doc || value?.kind !== 'ConfigMap') return undefined;
  const payload = value.data?.['config.conf'];
  if (typeof payload !== 'string') {
    return { layer: {}, diagnostics: [error('E_FIELD', 'ConfigMap has no data["config.conf"] string', doc.locate(['data']))] };
  }
  const inner = parseKubeProxyConfiguration(payload, file);
  const at = doc.locate(['data', 'config.conf']);
  // Positions inside the embedded text are reported relative to it, anchored at the ConfigMap key.
  return {
    layer: inner.layer,
    diagnostics: inner.diagnostics.map((d) => ({ ...d, ...at, message: `config.conf ${d.line}:${d.col}: ${d.message}` })),
  };
}

function dropNullish<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], null | undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v != null)) as { [K in keyof T]?: Exclude<T[K], null | undefined> };
}

const GO_DURATION = /^(0|([0-9]+(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+)$/;

const c = (code: string, message: string) => `[${code}] ${message}`;
const ipText = z.string({ error: c('E_INVALID_IP', 'must be an IP address') }).refine((s) => parseIP(s) !== undefined, {
  error: c('E_INVALID_IP', 'is not a valid IP address'),
});
const cidrText = z.string({ error: c('E_INVALID_IP', 'must be a CIDR') }).refine((s) => parseCIDR(s.trim()) !== undefined, {
  error: c('E_INVALID_IP', 'is not a valid CIDR'),
});
/** `10.0.0.0/8` or a dual-stack `10.0.0.0/8,fd00::/48`. */
const cidrList = z.string({ error: c('E_INVALID_IP', 'must be a CIDR') }).refine(
  (s) => s.split(',').every((x) => parseCIDR(x.trim()) !== undefined),
  { error: c('E_INVALID_IP', 'is not a CIDR or a comma-separated pair of CIDRs') },
);
const nodePortAddress = z.union([z.literal('primary'), cidrText], { error: c('E_INVALID_IP', 'must be a CIDR or primary') });
const ifaceName = z.string().refine(isInterfaceName, { error: c('E_NAME', 'is not a valid interface name') });
const boolean = z.boolean({ error: c('E_FIELD', 'must be true or false') });
const duration = z.string({ error: c('E_FIELD', 'must be a Go duration such as 30s') }).refine((s) => GO_DURATION.test(s), {
  error: c('E_FIELD', 'must be a Go duration such as 30s or 1m0s'),
});
const markBit = z.number({ error: c('E_FIELD', 'must be an integer in 0..31') }).int().min(0).max(31);
const detectorMode = z.enum(['ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix', 'None'], {
  error: c('E_FIELD', 'must be one of ClusterCIDR, NodeCIDR, BridgeInterface, InterfaceNamePrefix, None'),
});

const nodeConfigSchema = z.strictObject({
  ipFamily: z.enum(['IPv4', 'IPv6'], { error: c('E_FIELD', 'must be IPv4 or IPv6') }).nullish(),
  nodeName: z.string().refine(isDNS1123Subdomain, { error: c('E_NAME', 'must be a DNS-1123 subdomain') }).nullish(),
  nodeIP: ipText.nullish(),
  nodeIPs: z.array(ipText).nullish(),
  interfaces: z.record(ifaceName, z.array(cidrText)).nullish(),
  localDetector: z
    .strictObject({
      mode: detectorMode,
      clusterCIDR: cidrList.nullish(),
      nodeCIDR: cidrText.nullish(),
      bridgeInterface: ifaceName.nullish(),
      interfacePrefix: ifaceName.nullish(),
    })
    .nullish(),
  clusterCIDR: cidrList.nullish(),
  serviceCIDRs: z.array(cidrText).nullish(),
  masqueradeAll: boolean.nullish(),
  masqueradeBit: markBit.nullish(),
  masqueradeMark: z.union([z.string(), z.number()]).nullish(),
  nodePortAddresses: z.array(nodePortAddress).nullish(),
  localhostNodePorts: boolean.nullish(),
  hasRandomFully: boolean.nullish(),
  conntrackTCPLiberal: boolean.nullish(),
  nfacctCounters: z
    .strictObject({ ct_state_invalid_dropped_pkts: boolean.nullish(), localhost_nps_accepted_pkts: boolean.nullish() })
    .nullish(),
  syncPeriod: duration.nullish(),
});

/** Every field of KubeProxyConfiguration v1alpha1; the ones kproxy does not use are only type-checked loosely. */
const ignored = z.unknown().optional();
const kubeProxyConfigurationSchema = z.strictObject({
  apiVersion: z.literal('kubeproxy.config.k8s.io/v1alpha1', { error: c('E_API_VERSION', 'must be kubeproxy.config.k8s.io/v1alpha1') }),
  kind: z.literal('KubeProxyConfiguration', { error: c('E_FIELD', 'must be KubeProxyConfiguration') }),
  featureGates: ignored,
  clientConnection: ignored,
  logging: ignored,
  hostnameOverride: z.string().nullish(),
  bindAddress: ignored,
  healthzBindAddress: ignored,
  metricsBindAddress: ignored,
  bindAddressHardFail: ignored,
  enableProfiling: ignored,
  showHiddenMetricsForVersion: ignored,
  mode: ignored,
  iptables: z
    .strictObject({
      masqueradeAll: boolean.nullish(),
      masqueradeBit: markBit.nullish(),
      localhostNodePorts: boolean.nullish(),
      syncPeriod: duration.nullish(),
      minSyncPeriod: ignored,
    })
    .nullish(),
  ipvs: ignored,
  nftables: ignored,
  winkernel: ignored,
  detectLocalMode: z
    .union([detectorMode.exclude(['None']), z.literal('')], { error: c('E_FIELD', 'must be ClusterCIDR, NodeCIDR, BridgeInterface or InterfaceNamePrefix') })
    .nullish(),
  detectLocal: z
    .strictObject({ bridgeInterface: ifaceName.nullish(), interfaceNamePrefix: ifaceName.nullish() })
    .nullish(),
  clusterCIDR: cidrList.nullish(),
  nodePortAddresses: z.array(nodePortAddress).nullish(),
  oomScoreAdj: ignored,
  conntrack: z
    .strictObject({
      maxPerCore: ignored,
      min: ignored,
      tcpEstablishedTimeout: ignored,
      tcpCloseWaitTimeout: ignored,
      tcpBeLiberal: boolean.nullish(),
      udpTimeout: ignored,
      udpStreamTimeout: ignored,
    })
    .nullish(),
  configSyncPeriod: ignored,
  portRange: ignored,
  windowsRunAsService: ignored,
  syncPeriod: duration.nullish(),
  minSyncPeriod: ignored,
  // Removed fields that configs written by older kubeadm releases still carry.
  udpIdleTimeout: ignored,
  resourceContainer: ignored,
});
