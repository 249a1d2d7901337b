/**
 * Manifests → validated objects. Pure: sources in, objects and diagnostics out. Every problem of every document
 * is collected (one bad document never hides another); an object with an error is left out of `objects`.
 *
 * apiVersion decisions: Service, Endpoints, Pod and Node must be `v1`; EndpointSlice must be
 * `discovery.k8s.io/v1` (v1beta1 was removed in Kubernetes 1.25 and its schema differs, so it is refused rather
 * than guessed). Ingress is `networking.k8s.io/v1`, or one of the removed v1beta1 forms, read with a warning
 * (ingress.ts). A kind kproxy does not read is skipped whatever its apiVersion.
 */
import type { z } from 'zod';
import { error, sortDiagnostics, warning, type Diagnostic, type Position } from '../diag/diagnostic.js';
import { parseIP, type IPFamily } from '../net/ip.js';
import type { Endpoint, EndpointPort, EndpointSlice, LoadBalancerIngress, Protocol, Service, ServicePort } from '../cluster/types.js';
import type { ModelCode } from './codes.js';
import { convertIngress, ingressSchema, isIngressApiVersion } from './ingress.js';
import { codedIssues, formatPath } from './issues.js';
import { isDNS1123Label, isDNS1123Subdomain, isIanaSvcName } from './names.js';
import type {
  EndpointAddress,
  EndpointsObject,
  EndpointSliceObject,
  EndpointSubset,
  KubeObject,
  NodeObject,
  PodObject,
  ServiceObject,
} from './objects.js';
import * as schema from './schemas.js';
import { parseSource, type ParsedDocument, type Path, type Source } from './source.js';

export type { Source } from './source.js';

/** An object of a kind kproxy does not read (Deployment, ConfigMap, ...); listed by the CLI with --verbose. */
export interface SkippedObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name?: string;
  at: Position;
}

export interface LoadResult {
  objects: KubeObject[];
  diagnostics: Diagnostic[];
  skipped: SkippedObject[];
}

const API_VERSIONS: Record<KubeObject['kind'], string> = {
  Service: 'v1',
  EndpointSlice: 'discovery.k8s.io/v1',
  Endpoints: 'v1',
  Pod: 'v1',
  Node: 'v1',
  Ingress: 'networking.k8s.io/v1',
};

export function loadManifests(sources: readonly Source[]): LoadResult {
  const objects: KubeObject[] = [];
  const diagnostics: Diagnostic[] = [];
  const skipped: SkippedObject[] = [];
  for (const source of sources) {
    const parsed = parseSource(source);
    diagnostics.push(...parsed.diagnostics);
    for (const doc of parsed.documents) {
      visit(doc, doc.value, [], undefined, { objects, diagnostics, skipped });
    }
  }
  diagnostics.push(...findDuplicates(objects));
  return { objects: withoutDuplicates(objects), diagnostics: sortDiagnostics(diagnostics), skipped };
}

interface Sink {
  objects: KubeObject[];
  diagnostics: Diagnostic[];
  skipped: SkippedObject[];
}

/** `kind`/`apiVersion` that items of a typed list (ServiceList, ...) inherit when they omit them. */
interface Inherited {
  kind: string;
  apiVersion: string | undefined;
}

function visit(doc: ParsedDocument, value: unknown, base: Path, inherited: Inherited | undefined, sink: Sink): void {
  if (value === null || value === undefined) return;
  if (!isRecord(value)) {
    sink.diagnostics.push(
      error('E_FIELD', 'expected a Kubernetes object (a map with apiVersion and kind)', doc.locate(base)),
    );
    return;
  }
  const kind = value.kind ?? inherited?.kind;
  const apiVersion = value.apiVersion ?? inherited?.apiVersion;
  if (typeof kind !== 'string' || kind === '') {
    sink.diagnostics.push(error('E_FIELD', 'kind: required string', doc.locate([...base, 'kind'])));
    return;
  }
  // A List wrapper needs no apiVersion of its own: its items carry theirs.
  if (kind.endsWith('List') && (kind === 'List' || 'items' in value)) {
    const items = value.items;
    if (items === null || items === undefined) return;
    if (!Array.isArray(items)) {
      sink.diagnostics.push(error('E_FIELD', 'items: must be a list', doc.locate([...base, 'items'])));
      return;
    }
    const itemKind = kind === 'List' ? undefined : { kind: kind.slice(0, -'List'.length), apiVersion: typeof apiVersion === 'string' ? apiVersion : undefined };
    items.forEach((item, i) => visit(doc, item, [...base, 'items', i], itemKind, sink));
    return;
  }
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    sink.diagnostics.push(error('E_API_VERSION', 'apiVersion: required string', doc.locate([...base, 'apiVersion'])));
    return;
  }
  if (!isKnownKind(kind)) {
    const metadata = isRecord(value.metadata) ? value.metadata : {};
    sink.skipped.push({
      apiVersion,
      kind,
      ...(typeof metadata.namespace === 'string' ? { namespace: metadata.namespace } : {}),
      ...(typeof metadata.name === 'string' ? { name: metadata.name } : {}),
      at: doc.locate(base),
    });
    return;
  }
  if (apiVersion !== API_VERSIONS[kind] && !(kind === 'Ingress' && isIngressApiVersion(apiVersion))) {
    const hint = apiVersion === 'discovery.k8s.io/v1beta1' ? ' (v1beta1 was removed in Kubernetes 1.25)' : '';
    sink.diagnostics.push(
      error(
        'E_API_VERSION',
        `apiVersion: ${kind} must be ${API_VERSIONS[kind]}, not ${JSON.stringify(apiVersion)}${hint}`,
        doc.locate([...base, 'apiVersion']),
      ),
    );
    return;
  }
  const ctx = new Context(doc, base);
  const object = convert(kind, value, ctx, apiVersion);
  sink.diagnostics.push(...ctx.diagnostics);
  if (object && !ctx.failed) sink.objects.push(object);
}

function isKnownKind(kind: string): kind is KubeObject['kind'] {
  return Object.hasOwn(API_VERSIONS, kind);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collects the diagnostics of one object, with paths relative to the object. */
class Context {
  readonly diagnostics: Diagnostic[] = [];
  failed = false;
  constructor(
    private readonly doc: ParsedDocument,
    private readonly base: Path,
  ) {}

  at(path: Path = [], options?: { key?: boolean }): Position {
    return this.doc.locate([...this.base, ...path], options);
  }

  error(code: ModelCode, path: Path, message: string): void {
    this.failed = true;
    this.diagnostics.push(error(code, `${formatPath(path)}${message}`, this.at(path)));
  }

  warn(code: ModelCode, path: Path, message: string): void {
    this.diagnostics.push(warning(code, `${formatPath(path)}${message}`, this.at(path)));
  }

  /** Runs a zod schema; issues become diagnostics at their node. */
  parse<T>(s: z.ZodType<T>, value: unknown): T | undefined {
    const result = s.safeParse(value);
    if (result.success) return result.data;
    for (const issue of codedIssues(result.error.issues)) this.error(issue.code, issue.path, issue.message);
    return undefined;
  }

  /** Warns about IPv4 leading zeros; `text` already passed a sloppy parse, so a regex is enough (and cheap). */
  checkLeadingZeros(text: string, path: Path): void {
    if (!text.includes(':') && /(^|\.)0[0-9]/.test(text)) {
      this.warn('W_IP_LEADING_ZEROS', path, `${text} has leading zeros; it means ${parseIP(text, { sloppy: true })?.text}`);
    }
  }
}

function convert(kind: KubeObject['kind'], value: unknown, ctx: Context, apiVersion: string): KubeObject | undefined {
  switch (kind) {
    case 'Service':
      return convertService(parseService(value, ctx), ctx);
    case 'EndpointSlice':
      return convertEndpointSlice(parseEndpointSlice(value, ctx), ctx);
    case 'Endpoints':
      return convertEndpoints(ctx.parse(schema.endpoints, value), ctx);
    case 'Pod':
      return convertPod(ctx.parse(schema.pod, value), ctx);
    case 'Node':
      return convertNode(ctx.parse(schema.node, value), ctx);
    case 'Ingress': {
      const input = ctx.parse(ingressSchema(apiVersion), value);
      return input && convertIngress(input, apiVersion, header(input.metadata, ctx), ctx);
    }
  }
}

/** The shell through zod and the endpoints through the plain-code fast path; the full schema whenever either
 * refuses, so that errors are exactly the schema's. */
function parseEndpointSlice(value: unknown, ctx: Context): schema.EndpointSliceInput | undefined {
  if (isRecord(value)) {
    const raw = value.endpoints;
    const endpoints = raw === undefined ? undefined : schema.fastEndpoints(raw);
    const metadata = schema.fastMetadata(value.metadata, schema.isObjectName);
    if ((raw === undefined || endpoints !== undefined) && metadata !== undefined) {
      const body = schema.endpointSliceBody.safeParse(value);
      if (body.success) return raw === undefined ? { metadata, ...body.data } : { metadata, ...body.data, endpoints };
    }
  }
  const parsed = ctx.parse(schema.endpointSlice, value);
  if (!parsed) checkRawSliceAddresses(value, ctx);
  return parsed;
}

/**
 * The addresses of a slice the schema refused for some other field: checked anyway (as convertEndpointSlice
 * would), so a bad port does not hide a bad address. Only what has the right shape is looked at.
 */
function checkRawSliceAddresses(value: unknown, ctx: Context): void {
  if (!isRecord(value) || !Array.isArray(value.endpoints)) return;
  const type = value.addressType;
  if (type !== 'IPv4' && type !== 'IPv6' && type !== 'FQDN') return;
  value.endpoints.forEach((endpoint: unknown, i) => {
    if (!isRecord(endpoint) || !Array.isArray(endpoint.addresses)) return;
    endpoint.addresses.forEach((address: unknown, j) => {
      if (typeof address === 'string') checkSliceAddress(type, address, ['endpoints', i, 'addresses', j], ctx);
    });
  });
}

/** The metadata through the fast path, the rest through zod; the full schema whenever either refuses. */
function parseService(value: unknown, ctx: Context): schema.ServiceInput | undefined {
  if (isRecord(value)) {
    const metadata = schema.fastMetadata(value.metadata, schema.isServiceName);
    if (metadata !== undefined) {
      const body = schema.serviceShell.safeParse(value);
      if (body.success) return { metadata, ...body.data };
    }
  }
  return ctx.parse(schema.service, value);
}

interface MetadataInput {
  name: string;
  namespace?: string | null;
  labels?: Record<string, string> | null;
  annotations?: Record<string, unknown> | null;
  deletionTimestamp?: unknown;
}

function header(metadata: MetadataInput, ctx: Context, namespaced = true) {
  return {
    namespace: namespaced ? (metadata.namespace ?? 'default') : '',
    name: metadata.name,
    labels: metadata.labels ?? {},
    at: ctx.at(),
    nameAt: ctx.at(['metadata', 'name']),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Service

function convertService(input: schema.ServiceInput | undefined, ctx: Context): ServiceObject | undefined {
  if (!input) return undefined;
  const head = header(input.metadata, ctx);
  const spec = input.spec ?? {};
  const type = spec.type ?? undefined;

  const families: IPFamily[] = [];
  const clusterIPs = spec.clusterIPs ?? [];
  const clusterIP = spec.clusterIP ?? clusterIPs[0] ?? '';
  checkClusterIP(clusterIP, ['spec', 'clusterIP'], ctx, families);
  clusterIPs.forEach((ip, i) => checkClusterIP(ip, ['spec', 'clusterIPs', i], ctx, []));
  if (spec.clusterIP && clusterIPs.length > 0 && clusterIPs[0] !== spec.clusterIP) {
    ctx.error('E_FIELD', ['spec', 'clusterIPs', 0], 'must equal spec.clusterIP');
  }
  for (const [i, text] of clusterIPs.entries()) {
    const ip = parseIP(text, { sloppy: true });
    if (i > 0 && ip) families.push(ip.family);
  }
  if (families.length > 1 && families[0] === families[1]) {
    ctx.error('E_FIELD', ['spec', 'clusterIPs', 1], 'dual-stack clusterIPs must be of different families');
  }
  const headless = clusterIP === 'None';
  if (clusterIP === '' && type !== 'ExternalName') {
    ctx.warn('W_CLUSTER_IP_UNSET', input.spec ? ['spec'] : [], 'no spec.clusterIP: give the address the API server allocated (kubectl get svc) to get rules for it');
  }

  if (type === 'ExternalName') {
    const name = spec.externalName ?? '';
    if (!isDNS1123Subdomain(name.replace(/\.$/, '').toLowerCase())) {
      ctx.error('E_NAME', ['spec', 'externalName'], 'must be a DNS-1123 subdomain (required for type ExternalName)');
    }
    if (clusterIP !== '') ctx.error('E_FIELD', ['spec', 'clusterIP'], 'must not be set for type ExternalName');
  }
  if (headless && (type === 'NodePort' || type === 'LoadBalancer')) {
    ctx.error('E_FIELD', ['spec', 'clusterIP'], `may not be None for type ${type}`);
  }

  (spec.externalIPs ?? []).forEach((ip, i) => ctx.checkLeadingZeros(ip, ['spec', 'externalIPs', i]));

  const ports = convertServicePorts(spec.ports ?? [], type, ctx);
  if (ports.length === 0 && !headless && type !== 'ExternalName') {
    const path = spec.ports ? ['spec', 'ports'] : input.spec ? ['spec'] : [];
    ctx.error('E_MISSING_PORTS', path, 'spec.ports is required (only headless and ExternalName Services may omit it)');
  }

  const sessionAffinity = spec.sessionAffinity ?? 'None';
  if (sessionAffinity === 'None' && spec.sessionAffinityConfig) {
    ctx.error('E_FIELD', ['spec', 'sessionAffinityConfig'], 'must not be set when sessionAffinity is None');
  }
  const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800;

  const ingress: LoadBalancerIngress[] = [];
  (input.status?.loadBalancer?.ingress ?? []).forEach((entry, i) => {
    const path = ['status', 'loadBalancer', 'ingress', i, 'ip'];
    if (entry.ip) {
      if (!parseIP(entry.ip, { sloppy: true })) ctx.error('E_INVALID_IP', path, `${entry.ip} is not a valid IP address`);
      else ctx.checkLeadingZeros(entry.ip, path);
    }
    ingress.push({
      ...(entry.ip != null ? { ip: entry.ip } : {}),
      ...(entry.hostname != null ? { hostname: entry.hostname } : {}),
      ...(entry.ipMode != null ? { ipMode: entry.ipMode } : {}),
    });
  });

  const selector = spec.selector && Object.keys(spec.selector).length > 0 ? spec.selector : undefined;
  const service: Service = {
    namespace: head.namespace,
    name: head.name,
    type,
    clusterIP,
    clusterIPs,
    ...(spec.externalName != null ? { externalName: spec.externalName } : {}),
    externalIPs: spec.externalIPs ?? [],
    loadBalancerIngress: ingress,
    loadBalancerSourceRanges: spec.loadBalancerSourceRanges ?? [],
    sessionAffinity,
    sessionAffinityTimeoutSeconds: sessionAffinity === 'ClientIP' ? timeout : 0,
    externalTrafficPolicy: spec.externalTrafficPolicy ?? undefined,
    internalTrafficPolicy: spec.internalTrafficPolicy ?? undefined,
    healthCheckNodePort: spec.healthCheckNodePort ?? 0,
    selector,
    ports,
    at: head.at,
  };
  const ipFamilies: IPFamily[] = spec.ipFamilies ? spec.ipFamilies.map((f) => (f === 'IPv4' ? 4 : 6)) : families;
  return {
    kind: 'Service',
    ...head,
    service,
    ipFamilies: [...new Set(ipFamilies)],
    publishNotReadyAddresses: spec.publishNotReadyAddresses ?? false,
    ...(selector ? { selectorAt: ctx.at(['spec', 'selector']) } : {}),
    targetPortAt: ports.map((_, i) => ctx.at(['spec', 'ports', i, (spec.ports?.[i]?.targetPort ?? null) !== null ? 'targetPort' : 'port'])),
  };
}

function checkClusterIP(text: string, path: Path, ctx: Context, families: IPFamily[]): void {
  if (text === '' || text === 'None') return;
  const ip = parseIP(text, { sloppy: true });
  if (!ip) {
    ctx.error('E_INVALID_IP', path, `${JSON.stringify(text)} is not a valid IP address, "" or "None"`);
    return;
  }
  families.push(ip.family);
  ctx.checkLeadingZeros(text, path);
}

function convertServicePorts(
  inputs: NonNullable<NonNullable<schema.ServiceInput['spec']>['ports']>,
  type: Service['type'],
  ctx: Context,
): ServicePort[] {
  const names = new Map<string, number>();
  const pairs = new Map<string, number>();
  const nodePorts = new Map<string, number>();
  return inputs.map((p, i) => {
    const path = ['spec', 'ports', i];
    const name = p.name ?? '';
    const protocol: Protocol = p.protocol ?? 'TCP';
    if (name === '' && inputs.length > 1) {
      ctx.error('E_PORT_NAME', path, 'every port of a multi-port Service must have a name');
    } else if (name !== '' && !isIanaSvcName(name)) {
      ctx.error('E_PORT_NAME', [...path, 'name'], `${JSON.stringify(name)} is not an IANA_SVC_NAME (at most 15 lowercase alphanumerics or -, with a letter)`);
    }
    if (name !== '') noteDuplicate(names, name, i, ctx, [...path, 'name'], `port name ${name} is already used by spec.ports[${names.get(name)}]`);
    noteDuplicate(pairs, `${p.port}/${protocol}`, i, ctx, [...path, 'port'], `${p.port}/${protocol} is already used by spec.ports[${pairs.get(`${p.port}/${protocol}`)}]`);
    const nodePort = p.nodePort ?? 0;
    if (nodePort !== 0) {
      noteDuplicate(nodePorts, `${nodePort}/${protocol}`, i, ctx, [...path, 'nodePort'], `nodePort ${nodePort}/${protocol} is already used by spec.ports[${nodePorts.get(`${nodePort}/${protocol}`)}]`);
      if (type === 'ClusterIP' || type === 'ExternalName') {
        ctx.error('E_FIELD', [...path, 'nodePort'], `may not be used when type is ${type}`);
      }
    }
    let targetPort: number | string = p.port;
    const target = p.targetPort;
    if (typeof target === 'number') {
      if (!Number.isInteger(target) || target < 0 || target > 65535) {
        ctx.error('E_PORT_RANGE', [...path, 'targetPort'], 'must be in 1..65535 or a port name');
      } else if (target !== 0) targetPort = target;
    } else if (typeof target === 'string' && target !== '') {
      if (!isIanaSvcName(target)) {
        ctx.error('E_PORT_NAME', [...path, 'targetPort'], `${JSON.stringify(target)} is not a valid port number or IANA_SVC_NAME`);
      }
      targetPort = target;
    }
    return { name, protocol, port: p.port, targetPort, nodePort, at: ctx.at(path) };
  });
}

/** Records `key`; the second and later occurrences are E_DUPLICATE_PORT at `path`. */
function noteDuplicate(seen: Map<string, number>, key: string, index: number, ctx: Context, path: Path, message: string): void {
  if (seen.has(key)) ctx.error('E_DUPLICATE_PORT', path, message);
  else seen.set(key, index);
}

// ---------------------------------------------------------------------------------------------------------
// EndpointSlice

function convertEndpointSlice(input: schema.EndpointSliceInput | undefined, ctx: Context): EndpointSliceObject | undefined {
  if (!input) return undefined;
  const head = header(input.metadata, ctx);
  const names = new Map<string, number>();
  const ports: EndpointPort[] = (input.ports ?? []).map((p, i) => {
    const path = ['ports', i];
    const name = p.name ?? null;
    if (name !== null) {
      if (name !== '' && !isDNS1123Label(name)) ctx.error('E_PORT_NAME', [...path, 'name'], `${JSON.stringify(name)} is not a DNS-1123 label`);
      // Two unnamed ("") ports clash too: the name is what kube-proxy matches service ports by.
      noteDuplicate(names, name, i, ctx, [...path, 'name'], `port name ${JSON.stringify(name)} is already used by ports[${names.get(name)}]`);
    }
    if (p.port === 0) ctx.warn('W_PORT_ZERO', [...path, 'port'], 'port 0 is not a valid port; kube-proxy skips it');
    return { name, port: p.port ?? null, protocol: p.protocol ?? 'TCP' };
  });
  const endpoints: Endpoint[] = (input.endpoints ?? []).map((e, i) => {
    e.addresses.forEach((address, j) => checkSliceAddress(input.addressType, address, ['endpoints', i, 'addresses', j], ctx));
    const ref = e.targetRef;
    return {
      addresses: e.addresses,
      ready: e.conditions?.ready ?? null,
      serving: e.conditions?.serving ?? null,
      terminating: e.conditions?.terminating ?? null,
      ...(e.nodeName != null ? { nodeName: e.nodeName } : {}),
      ...(ref?.kind === 'Pod' && ref.name ? { pod: `${ref.namespace ?? head.namespace}/${ref.name}` } : {}),
    };
  });
  const slice: EndpointSlice = {
    namespace: head.namespace,
    name: head.name,
    serviceName: head.labels['kubernetes.io/service-name'],
    addressType: input.addressType,
    ports,
    endpoints,
    origin: 'input',
    at: head.at,
  };
  return { kind: 'EndpointSlice', ...head, slice };
}

function checkSliceAddress(addressType: 'IPv4' | 'IPv6' | 'FQDN', address: string, path: Path, ctx: Context): void {
  if (addressType === 'FQDN') {
    if (!isDNS1123Subdomain(address)) ctx.error('E_ADDRESS_TYPE', path, `${JSON.stringify(address)} is not an FQDN`);
    return;
  }
  // The common case, a canonical IPv4 address in an IPv4 slice, has nothing to report.
  if (addressType === 'IPv4' && schema.isCanonicalIPv4(address)) return;
  const ip = parseIP(address, { sloppy: true });
  if (!ip) {
    ctx.error('E_INVALID_IP', path, `${JSON.stringify(address)} is not a valid IP address`);
  } else if (`IPv${ip.family}` !== addressType) {
    ctx.error('E_ADDRESS_TYPE', path, `${address} is not an ${addressType} address (addressType: ${addressType})`);
  } else {
    ctx.checkLeadingZeros(address, path);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Endpoints

function convertEndpoints(input: schema.EndpointsInput | undefined, ctx: Context): EndpointsObject | undefined {
  if (!input) return undefined;
  const head = header(input.metadata, ctx);
  const subsets: EndpointSubset[] = (input.subsets ?? []).map((subset, s) => {
    const address = (kind: 'addresses' | 'notReadyAddresses') =>
      (subset[kind] ?? []).map((a, i): EndpointAddress => {
        ctx.checkLeadingZeros(a.ip, ['subsets', s, kind, i, 'ip']);
        return {
          ip: a.ip,
          ...(a.nodeName != null ? { nodeName: a.nodeName } : {}),
          ...(a.hostname != null ? { hostname: a.hostname } : {}),
          ...(a.targetRef?.kind === 'Pod' && a.targetRef.name
            ? { pod: `${a.targetRef.namespace ?? head.namespace}/${a.targetRef.name}` }
            : {}),
        };
      });
    const inputs = subset.ports ?? [];
    const names = new Map<string, number>();
    const ports = inputs.map((p, i) => {
      const path = ['subsets', s, 'ports', i];
      const name = p.name ?? '';
      if (name === '' && inputs.length > 1) ctx.error('E_PORT_NAME', path, 'every port of a multi-port subset must have a name');
      if (name !== '') {
        if (!isDNS1123Label(name)) ctx.error('E_PORT_NAME', [...path, 'name'], `${JSON.stringify(name)} is not a DNS-1123 label`);
        noteDuplicate(names, name, i, ctx, [...path, 'name'], `port name ${name} is already used in this subset`);
      }
      return { name, port: p.port, protocol: p.protocol ?? ('TCP' as Protocol) };
    });
    return { addresses: address('addresses'), notReadyAddresses: address('notReadyAddresses'), ports };
  });
  const annotations = input.metadata.annotations ?? {};
  return {
    kind: 'Endpoints',
    ...head,
    subsets,
    controllerManaged: Object.hasOwn(annotations, 'endpoints.kubernetes.io/last-change-trigger-time'),
    skipMirror: head.labels['endpointslice.kubernetes.io/skip-mirror'] === 'true',
  };
}

// ---------------------------------------------------------------------------------------------------------
// Pod and Node

function convertPod(input: schema.PodInput | undefined, ctx: Context): PodObject | undefined {
  if (!input) return undefined;
  const head = header(input.metadata, ctx);
  const status = input.status ?? {};
  const podIPs = status.podIPs?.map((p) => p.ip) ?? (status.podIP ? [status.podIP] : []);
  if (status.podIP) ctx.checkLeadingZeros(status.podIP, ['status', 'podIP']);
  const containerPorts: PodObject['containerPorts'] = [];
  const names = new Map<string, number>();
  const collect = (kind: 'containers' | 'initContainers') =>
    (input.spec?.[kind] ?? []).forEach((container, c) => {
      // Only restartable init containers (sidecars) keep serving, so only their ports count.
      if (kind === 'initContainers' && container.restartPolicy !== 'Always') return;
      (container.ports ?? []).forEach((p, i) => {
        const path = ['spec', kind, c, 'ports', i, 'name'];
        const name = p.name ?? '';
        if (name !== '') {
          if (!isIanaSvcName(name)) ctx.error('E_PORT_NAME', path, `${JSON.stringify(name)} is not an IANA_SVC_NAME`);
          noteDuplicate(names, name, containerPorts.length, ctx, path, `port name ${name} is already used in this Pod`);
        }
        containerPorts.push({ name, port: p.containerPort, protocol: p.protocol ?? 'TCP' });
      });
    });
  collect('containers');
  collect('initContainers');
  const ready = (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const terminating = input.metadata.deletionTimestamp != null;
  const nodeName = input.spec?.nodeName ?? undefined;
  return {
    kind: 'Pod',
    ...head,
    pod: {
      namespace: head.namespace,
      name: head.name,
      labels: head.labels,
      ...(podIPs[0] !== undefined ? { podIP: podIPs[0] } : {}),
      ...(nodeName !== undefined ? { nodeName } : {}),
      ready,
      terminating,
      namedPorts: containerPorts.filter((p) => p.name !== ''),
      at: head.at,
    },
    podIPs,
    phase: status.phase ?? undefined,
    containerPorts,
  };
}

function convertNode(input: schema.NodeInput | undefined, ctx: Context): NodeObject | undefined {
  if (!input) return undefined;
  const head = header(input.metadata, ctx, false);
  const podCIDRs = input.spec?.podCIDRs ?? (input.spec?.podCIDR ? [input.spec.podCIDR] : []);
  const addresses = (input.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP');
  addresses.forEach((a, i) => {
    if (!parseIP(a.address, { sloppy: true })) ctx.error('E_INVALID_IP', ['status', 'addresses', i, 'address'], `${a.address} is not an IP address`);
  });
  return {
    kind: 'Node',
    ...head,
    node: { name: head.name, labels: head.labels, podCIDRs, addresses, at: head.at },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Duplicates

function objectKey(o: KubeObject): string {
  return `${o.kind}/${o.namespace}/${o.name}`;
}

function findDuplicates(objects: readonly KubeObject[]): Diagnostic[] {
  const first = new Map<string, KubeObject>();
  const out: Diagnostic[] = [];
  for (const o of objects) {
    const key = objectKey(o);
    const earlier = first.get(key);
    if (!earlier) {
      first.set(key, o);
      continue;
    }
    const where = `${earlier.at.file}:${earlier.at.line}:${earlier.at.col}`;
    const id = o.namespace ? `${o.namespace}/${o.name}` : o.name;
    out.push(error('E_DUPLICATE_OBJECT', `${o.kind} ${id} is already defined at ${where}`, o.nameAt));
  }
  return out;
}

function withoutDuplicates(objects: readonly KubeObject[]): KubeObject[] {
  const seen = new Set<string>();
  return objects.filter((o) => {
    const key = objectKey(o);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
