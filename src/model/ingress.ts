/**
 * Ingress: schemas for `networking.k8s.io/v1` and for the removed `extensions/v1beta1` and
 * `networking.k8s.io/v1beta1` forms (the learner notes still use the first), and their conversion to one v1
 * shape. The checks are those of the API server's Ingress validation for the fields kproxy reads.
 *
 * v1beta1 → v1, as the API server converted it: `spec.backend` → `spec.defaultBackend`,
 * `backend.serviceName`/`servicePort` → `backend.service.name`/`port.number|name`, and a path without
 * `pathType` defaults to ImplementationSpecific (v1 requires pathType).
 */
import type { z } from 'zod';
import { warning, type Diagnostic, type Position } from '../diag/diagnostic.js';
import { parseIP } from '../net/ip.js';
import type {
  Ingress,
  IngressBackend,
  IngressPath,
  IngressRule,
  LoadBalancerIngress,
  PathType,
  Service,
} from '../cluster/types.js';
import type { ModelCode } from './codes.js';
import { isDNS1035Label, isDNS1123Subdomain, isIanaSvcName } from './names.js';
import type { IngressObject } from './objects.js';
import * as schema from './schemas.js';
import type { Path } from './source.js';

export const INGRESS_V1 = 'networking.k8s.io/v1';
/** Served until Kubernetes 1.22; read with a W_DEPRECATED_API warning. */
const DEPRECATED_VERSIONS = ['extensions/v1beta1', 'networking.k8s.io/v1beta1'];

export function isIngressApiVersion(apiVersion: string): boolean {
  return apiVersion === INGRESS_V1 || DEPRECATED_VERSIONS.includes(apiVersion);
}

const { nullish, obj, list, str, oneOf } = schema;

const resource = obj({ apiGroup: nullish(str()), kind: str(), name: str() });

const backendV1 = obj({
  service: nullish(
    obj({
      name: str('E_NAME'),
      port: nullish(obj({ number: nullish(schema.port()), name: nullish(str('E_PORT_NAME')) })),
    }),
  ),
  resource: nullish(resource),
});

const backendV1beta1 = obj({
  serviceName: nullish(str('E_NAME')),
  servicePort: nullish(schema.intOrString()),
  resource: nullish(resource),
});

const pathType = oneOf(['Exact', 'Prefix', 'ImplementationSpecific']);

function ingressSchemaOf<B extends z.ZodType>(backend: B, defaultBackendKey: 'defaultBackend' | 'backend') {
  const rule = obj({
    host: nullish(str('E_NAME')),
    http: nullish(obj({ paths: list(obj({ path: nullish(str()), pathType: nullish(pathType), backend })) })),
  });
  const tls = obj({ hosts: nullish(list(str('E_NAME'))), secretName: nullish(str()) });
  return obj({
    metadata: schema.metadata(schema.dnsSubdomain()),
    spec: nullish(
      obj({
        ingressClassName: nullish(schema.dnsSubdomain()),
        [defaultBackendKey]: nullish(backend),
        rules: nullish(list(rule)),
        tls: nullish(list(tls)),
      }),
    ),
    // The same LoadBalancerStatus shape as a Service's.
    status: schema.service.shape.status,
  });
}

const ingressV1 = ingressSchemaOf(backendV1, 'defaultBackend');
const ingressV1beta1 = ingressSchemaOf(backendV1beta1, 'backend');

type BackendV1 = z.infer<typeof backendV1>;
type BackendV1beta1 = z.infer<typeof backendV1beta1>;

/** What the schema of either version returns, seen through one type (the backend differs). */
export interface IngressInput {
  metadata: { name: string; annotations?: Record<string, unknown> | null };
  spec?: {
    ingressClassName?: string | null;
    defaultBackend?: BackendV1 | null;
    backend?: BackendV1beta1 | null;
    rules?:
      | {
          host?: string | null;
          http?: { paths: { path?: string | null; pathType?: PathType | null; backend: unknown }[] } | null;
        }[]
      | null;
    tls?: { hosts?: string[] | null; secretName?: string | null }[] | null;
  } | null;
  status?: z.infer<typeof schema.service>['status'];
}

export function ingressSchema(apiVersion: string): z.ZodType<IngressInput> {
  return (apiVersion === INGRESS_V1 ? ingressV1 : ingressV1beta1) as unknown as z.ZodType<IngressInput>;
}

/** What the conversion needs of load.ts's per-object context. */
export interface IngressContext {
  at(path?: Path): Position;
  error(code: ModelCode, path: Path, message: string): void;
  warn(code: ModelCode, path: Path, message: string): void;
  checkLeadingZeros(text: string, path: Path): void;
}

interface Header {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  at: Position;
  nameAt: Position;
}

export function convertIngress(
  input: IngressInput,
  apiVersion: string,
  head: Header,
  ctx: IngressContext,
): IngressObject {
  const v1 = apiVersion === INGRESS_V1;
  if (!v1) {
    ctx.warn(
      'W_DEPRECATED_API',
      ['apiVersion'],
      `Ingress ${apiVersion} was removed in Kubernetes 1.22; read as ${INGRESS_V1} (backend.serviceName/servicePort → backend.service.name/port, a path without pathType is ImplementationSpecific)`,
    );
  }
  const spec = input.spec ?? {};
  const backendKey = v1 ? 'defaultBackend' : 'backend';
  const defaultInput = v1 ? spec.defaultBackend : spec.backend;
  const defaultBackend = defaultInput ? convertBackend(defaultInput, v1, ['spec', backendKey], ctx) : undefined;
  const rules: IngressRule[] = (spec.rules ?? []).map((rule, r) => {
    const host = rule.host ?? '';
    if (host !== '') checkHost(host, ['spec', 'rules', r, 'host'], ctx);
    const paths: IngressPath[] = [];
    const http = rule.http;
    if (http && http.paths.length === 0)
      ctx.error('E_FIELD', ['spec', 'rules', r, 'http', 'paths'], 'must list at least one path');
    (http?.paths ?? []).forEach((p, i) => {
      const at = ['spec', 'rules', r, 'http', 'paths', i];
      const type = p.pathType ?? (v1 ? undefined : 'ImplementationSpecific');
      if (type === undefined)
        ctx.error(
          'E_FIELD',
          [...at, 'pathType'],
          `required in ${INGRESS_V1} (Exact, Prefix or ImplementationSpecific)`,
        );
      const path = p.path ?? '';
      checkPath(path, type ?? 'ImplementationSpecific', p.path == null ? at : [...at, 'path'], ctx);
      const backend = convertBackend(p.backend as BackendV1 | BackendV1beta1, v1, [...at, 'backend'], ctx);
      if (backend && type) paths.push({ path, pathType: type, backend, at: ctx.at(at) });
    });
    return { host, paths, at: ctx.at(['spec', 'rules', r]) };
  });
  if (!defaultInput && rules.length === 0) {
    ctx.error('E_FIELD', input.spec ? ['spec'] : [], `either spec.${backendKey} or spec.rules must be given`);
  }
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.metadata.annotations ?? {}))
    if (typeof value === 'string') annotations[key] = value;
  const ingress: Ingress = {
    namespace: head.namespace,
    name: head.name,
    apiVersion,
    ingressClassName: spec.ingressClassName ?? annotations['kubernetes.io/ingress.class'],
    defaultBackend,
    rules,
    tls: (spec.tls ?? []).map((t) => ({ hosts: t.hosts ?? [], secretName: t.secretName ?? undefined })),
    loadBalancerIngress: loadBalancerStatus(input.status, ctx),
    annotations,
    at: head.at,
  };
  return { kind: 'Ingress', ...head, ingress };
}

function loadBalancerStatus(status: IngressInput['status'], ctx: IngressContext): LoadBalancerIngress[] {
  return (status?.loadBalancer?.ingress ?? []).map((entry, i) => {
    const path = ['status', 'loadBalancer', 'ingress', i, 'ip'];
    if (entry.ip) {
      if (!parseIP(entry.ip, { sloppy: true }))
        ctx.error('E_INVALID_IP', path, `${entry.ip} is not a valid IP address`);
      else ctx.checkLeadingZeros(entry.ip, path);
    }
    return {
      ...(entry.ip != null ? { ip: entry.ip } : {}),
      ...(entry.hostname != null ? { hostname: entry.hostname } : {}),
    };
  });
}

/** A DNS-1123 subdomain, or `*.` and one; never an IP address (the API server's rule). */
function checkHost(host: string, path: Path, ctx: IngressContext): void {
  if (parseIP(host, { sloppy: true })) {
    ctx.error('E_NAME', path, `${host} is an IP address; host must be a DNS name (leave it out to match every host)`);
    return;
  }
  const name = host.startsWith('*.') ? host.slice(2) : host;
  if (!isDNS1123Subdomain(name)) {
    ctx.error(
      'E_NAME',
      path,
      `${JSON.stringify(host)} must be a DNS-1123 subdomain, optionally with a leading "*." (one wildcard label)`,
    );
  }
}

/** Exact and Prefix paths must be absolute and clean; ImplementationSpecific ones only absolute (or empty). */
function checkPath(path: string, type: PathType, at: Path, ctx: IngressContext): void {
  if (path === '' && type === 'ImplementationSpecific') return;
  if (!path.startsWith('/')) {
    ctx.error('E_INGRESS_PATH', at, `${JSON.stringify(path)} must be an absolute path (start with /)`);
    return;
  }
  if (type === 'ImplementationSpecific') return;
  const bad =
    ['//', '/./', '/../', '%2f', '%2F'].find((s) => path.includes(s)) ?? ['/..', '/.'].find((s) => path.endsWith(s));
  if (bad)
    ctx.error(
      'E_INGRESS_PATH',
      at,
      `${JSON.stringify(path)} must not contain ${JSON.stringify(bad)} (pathType ${type})`,
    );
}

function convertBackend(
  input: BackendV1 | BackendV1beta1,
  v1: boolean,
  path: Path,
  ctx: IngressContext,
): IngressBackend | undefined {
  const at = ctx.at(path);
  const ref = input.resource;
  const service = v1
    ? serviceOfV1(input as BackendV1, path, ctx)
    : serviceOfV1beta1(input as BackendV1beta1, path, ctx);
  if (service === 'invalid') return undefined;
  if ((service !== undefined) === (ref != null)) {
    const fields = v1 ? 'service or resource' : 'serviceName/servicePort or resource';
    ctx.error('E_INGRESS_BACKEND', path, `give exactly one of ${fields}`);
    return undefined;
  }
  if (ref)
    return { kind: 'resource', resource: `${ref.apiGroup ? `${ref.apiGroup}/` : ''}${ref.kind}/${ref.name}`, at };
  return { kind: 'service', ...(service as { service: string; port: number | string }), at };
}

type ServiceRef = { service: string; port: number | string } | undefined | 'invalid';

function serviceOfV1(input: BackendV1, path: Path, ctx: IngressContext): ServiceRef {
  const svc = input.service;
  if (!svc) return undefined;
  const port = svc.port;
  if (!port || (port.number == null) === (port.name == null)) {
    ctx.error(
      'E_INGRESS_BACKEND',
      [...path, 'service', ...(port ? ['port'] : [])],
      'give exactly one of port.number or port.name',
    );
    return 'invalid';
  }
  return checkServiceRef(
    svc.name,
    port.number ?? (port.name as string),
    [...path, 'service', 'name'],
    [...path, 'service', 'port', port.number != null ? 'number' : 'name'],
    ctx,
  );
}

function serviceOfV1beta1(input: BackendV1beta1, path: Path, ctx: IngressContext): ServiceRef {
  if (input.serviceName == null && input.servicePort == null) return undefined;
  if (input.serviceName == null || input.servicePort == null) {
    ctx.error('E_INGRESS_BACKEND', path, 'serviceName and servicePort go together');
    return 'invalid';
  }
  return checkServiceRef(input.serviceName, input.servicePort, [...path, 'serviceName'], [...path, 'servicePort'], ctx);
}

function checkServiceRef(
  name: string,
  port: number | string,
  namePath: Path,
  portPath: Path,
  ctx: IngressContext,
): ServiceRef {
  let ok = true;
  if (!isDNS1035Label(name)) {
    ctx.error('E_NAME', namePath, `${JSON.stringify(name)} is not a Service name (a DNS-1035 label)`);
    ok = false;
  }
  if (typeof port === 'number' ? !Number.isInteger(port) || port < 1 || port > 65535 : !isIanaSvcName(port)) {
    ctx.error(
      typeof port === 'number' ? 'E_PORT_RANGE' : 'E_PORT_NAME',
      portPath,
      `${JSON.stringify(port)} must be a port in 1..65535 or a port name`,
    );
    ok = false;
  }
  return ok ? { service: name, port } : 'invalid';
}

// ---------------------------------------------------------------------------------------------------------

/** Every backend of an Ingress: the default one, then each path's, in order. */
export function ingressBackends(ingress: Ingress): IngressBackend[] {
  return [
    ...(ingress.defaultBackend ? [ingress.defaultBackend] : []),
    ...ingress.rules.flatMap((r) => r.paths.map((p) => p.backend)),
  ];
}

/** Warnings for backends that name a Service not in the input, or a port their Service does not have. */
export function checkIngressBackends(ingresses: readonly Ingress[], services: readonly Service[]): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const ingress of ingresses) {
    for (const backend of ingressBackends(ingress)) {
      if (backend.kind !== 'service') continue;
      const id = `${ingress.namespace}/${backend.service}`;
      const service = services.find((s) => s.namespace === ingress.namespace && s.name === backend.service);
      if (!service) {
        diagnostics.push(
          warning(
            'W_INGRESS_NO_SERVICE',
            `Ingress ${ingress.namespace}/${ingress.name}: Service ${id} is not in the input; ingress-nginx answers 503 for this backend`,
            backend.at,
          ),
        );
        continue;
      }
      // ExternalName Services need no ports: ingress-nginx proxies to the external name on the port given.
      if (service.type === 'ExternalName') continue;
      const port = backend.port;
      if (!service.ports.some((p) => (typeof port === 'number' ? p.port === port : p.name === port))) {
        const has = service.ports.map((p) => (p.name ? `${p.name}=${p.port}` : `${p.port}`)).join(', ');
        diagnostics.push(
          warning(
            'W_INGRESS_NO_PORT',
            `Ingress ${ingress.namespace}/${ingress.name}: Service ${id} has no port ${typeof port === 'number' ? port : `named ${port}`} (it has ${has || 'none'}); ingress-nginx answers 503 for this backend`,
            backend.at,
          ),
        );
      }
    }
  }
  return diagnostics;
}
