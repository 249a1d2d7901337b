/**
 * zod schemas for the fields kproxy reads, as strict as the API server's validation for those fields. Unknown
 * fields are stripped (kubectl output is full of them). Cross-field rules (multi-port names, duplicates,
 * addressType, defaults) live in load.ts, where the whole object is known.
 *
 * Each message starts with `[CODE] `: zod issues carry no custom code for built-in checks, so the code rides in
 * the message and load.ts splits it off. Issues without a prefix become E_FIELD.
 */
import { z } from 'zod';
import { parseCIDR, parseIP } from '../net/ip.js';
import type { ModelCode } from './codes.js';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isLabelKey, isLabelValue } from './names.js';

export function coded(code: ModelCode, message: string): string {
  return `[${code}] ${message}`;
}

const nullish = <T extends z.ZodType>(schema: T) => schema.nullish();

const str = (code: ModelCode = 'E_FIELD') => z.string({ error: coded(code, `must be a string`) });
const bool = () => z.boolean({ error: coded('E_FIELD', `must be true or false`) });
const int = (min: number, max: number, code: ModelCode) =>
  z
    .number({ error: coded(code, `must be an integer in ${min}..${max}`) })
    .int({ error: coded(code, `must be an integer in ${min}..${max}`) })
    .min(min, { error: coded(code, `must be in ${min}..${max}`) })
    .max(max, { error: coded(code, `must be in ${min}..${max}`) });
const list = <T extends z.ZodType>(item: T) => z.array(item, { error: coded('E_FIELD', `must be a list`) });
const obj = <T extends z.ZodRawShape>(shape: T) => z.object(shape, { error: coded('E_FIELD', `must be an object`) });
const oneOf = <const T extends readonly [string, ...string[]]>(values: T, code: ModelCode = 'E_FIELD') =>
  z.enum(values, { error: coded(code, `must be one of ${values.join(', ')}`) });

export const protocol = oneOf(['TCP', 'UDP', 'SCTP'], 'E_PROTOCOL');
export const port = () => int(1, 65535, 'E_PORT_RANGE');

/** Leading zeros are accepted in every IP field: kube-proxy parses them sloppily (load.ts warns). */
const ip = () =>
  str('E_INVALID_IP').refine((s) => parseIP(s, { sloppy: true }) !== undefined, {
    error: coded('E_INVALID_IP', `is not a valid IP address`),
  });
/** A Service's clusterIP: an address, "" (unallocated) or "None" (headless); checked here so a bad one is
 * reported together with the object's other schema errors. */
const clusterIP = () =>
  str('E_INVALID_IP').refine((s) => s === '' || s === 'None' || parseIP(s, { sloppy: true }) !== undefined, {
    error: coded('E_INVALID_IP', `is not a valid IP address, "" or "None"`),
  });
const cidr = () =>
  str('E_INVALID_IP').refine((s) => parseCIDR(s.trim(), { sloppy: true }) !== undefined, {
    error: coded('E_INVALID_IP', `is not a valid CIDR`),
  });
const checked = (test: (s: string) => boolean, rule: string) =>
  str('E_NAME').refine(test, { error: coded('E_NAME', `must be ${rule}`) });

export const dnsLabel = () => checked(isDNS1123Label, 'a DNS-1123 label (lowercase alphanumerics and -)');
export const dnsSubdomain = () =>
  checked(isDNS1123Subdomain, 'a DNS-1123 subdomain (lowercase alphanumerics, - and .)');

/** Label maps; bad keys and values are reported on the entry. */
const labels = (what: string) =>
  z.record(z.string(), z.unknown(), { error: coded('E_FIELD', `must be a map`) }).superRefine((map, ctx) => {
    for (const [key, value] of Object.entries(map)) {
      if (!isLabelKey(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: coded('E_NAME', `${JSON.stringify(key)} is not a valid ${what} key`),
        });
      }
      if (typeof value !== 'string' || !isLabelValue(value)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: coded(
            'E_NAME',
            typeof value === 'string'
              ? `${JSON.stringify(value)} is not a valid ${what} value`
              : `is ${kindOf(value)}, not a string: not a valid ${what} value`,
          ),
        });
      }
    }
  }) as unknown as z.ZodType<Record<string, string>>;

/** What a value that should have been a string is, in a few words (never the whole value: it may be huge or deep). */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `${typeof value === 'number' ? 'a number' : `a ${typeof value}`} (${String(value)})`;
}

const metadata = (name: z.ZodType<string>) =>
  obj({
    name,
    namespace: nullish(dnsLabel()),
    labels: nullish(labels('metadata.labels')),
    annotations: nullish(z.record(z.string(), z.unknown())),
    deletionTimestamp: nullish(z.unknown()),
  });

// ---------------------------------------------------------------------------------------------------------

const intOrString = () =>
  z.union([z.number(), z.string()], { error: coded('E_FIELD', `must be a number or a port name`) });

export const servicePort = obj({
  name: nullish(str('E_PORT_NAME')),
  protocol: nullish(protocol),
  port: port(),
  targetPort: nullish(intOrString()),
  nodePort: nullish(int(0, 65535, 'E_PORT_RANGE')),
});

export const service = obj({
  metadata: metadata(
    checked(isDNS1035Label, 'a DNS-1035 label (lowercase alphanumerics and -, starting with a letter)'),
  ),
  spec: nullish(
    obj({
      type: nullish(oneOf(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'])),
      clusterIP: nullish(clusterIP()),
      clusterIPs: nullish(list(clusterIP())),
      externalName: nullish(str()),
      externalIPs: nullish(list(ip())),
      loadBalancerSourceRanges: nullish(list(cidr())),
      sessionAffinity: nullish(oneOf(['None', 'ClientIP'])),
      sessionAffinityConfig: nullish(
        obj({
          clientIP: nullish(obj({ timeoutSeconds: nullish(int(1, 86400, 'E_FIELD')) })),
        }),
      ),
      externalTrafficPolicy: nullish(oneOf(['Cluster', 'Local'])),
      internalTrafficPolicy: nullish(oneOf(['Cluster', 'Local'])),
      healthCheckNodePort: nullish(int(0, 65535, 'E_PORT_RANGE')),
      publishNotReadyAddresses: nullish(bool()),
      ipFamilies: nullish(list(oneOf(['IPv4', 'IPv6']))),
      selector: nullish(labels('spec.selector')),
      ports: nullish(list(servicePort)),
    }),
  ),
  status: nullish(
    obj({
      loadBalancer: nullish(
        obj({
          ingress: nullish(
            list(
              obj({
                ip: nullish(str('E_INVALID_IP')),
                hostname: nullish(str()),
                ipMode: nullish(oneOf(['VIP', 'Proxy'])),
              }),
            ),
          ),
        }),
      ),
    }),
  ),
});

const conditions = obj({
  ready: nullish(bool()),
  serving: nullish(bool()),
  terminating: nullish(bool()),
});

const targetRef = obj({ kind: nullish(z.string()), namespace: nullish(z.string()), name: nullish(z.string()) });

export const endpointSlice = obj({
  metadata: metadata(dnsSubdomain()),
  addressType: oneOf(['IPv4', 'IPv6', 'FQDN']),
  endpoints: nullish(
    list(
      obj({
        addresses: list(str('E_INVALID_IP'))
          .min(1, { error: coded('E_FIELD', 'an endpoint needs at least one address') })
          .max(100, { error: coded('E_FIELD', 'an endpoint has at most 100 addresses') }),
        conditions: nullish(conditions),
        hostname: nullish(dnsLabel()),
        nodeName: nullish(dnsSubdomain()),
        targetRef: nullish(targetRef),
      }),
    ),
  ),
  ports: nullish(
    list(
      obj({
        name: nullish(str('E_PORT_NAME')),
        protocol: nullish(protocol),
        port: nullish(int(0, 65535, 'E_PORT_RANGE')),
      }),
    ),
  ),
});

const endpointAddress = obj({
  ip: ip(),
  hostname: nullish(dnsLabel()),
  nodeName: nullish(dnsSubdomain()),
  targetRef: nullish(targetRef),
});

export const endpoints = obj({
  metadata: metadata(dnsSubdomain()),
  subsets: nullish(
    list(
      obj({
        addresses: nullish(list(endpointAddress)),
        notReadyAddresses: nullish(list(endpointAddress)),
        ports: nullish(list(obj({ name: nullish(str('E_PORT_NAME')), port: port(), protocol: nullish(protocol) }))),
      }),
    ),
  ),
});

const container = obj({
  name: nullish(z.string()),
  restartPolicy: nullish(z.string()),
  ports: nullish(
    list(
      obj({
        name: nullish(str('E_PORT_NAME')),
        containerPort: port(),
        protocol: nullish(protocol),
      }),
    ),
  ),
});

export const pod = obj({
  metadata: metadata(dnsSubdomain()),
  spec: nullish(
    obj({
      nodeName: nullish(dnsSubdomain()),
      containers: nullish(list(container)),
      initContainers: nullish(list(container)),
    }),
  ),
  status: nullish(
    obj({
      phase: nullish(z.string()),
      podIP: nullish(ip()),
      podIPs: nullish(list(obj({ ip: ip() }))),
      conditions: nullish(list(obj({ type: z.string(), status: z.string() }))),
    }),
  ),
});

export const node = obj({
  metadata: metadata(dnsSubdomain()),
  spec: nullish(
    obj({
      podCIDR: nullish(cidr()),
      podCIDRs: nullish(list(cidr())),
    }),
  ),
  status: nullish(
    obj({
      addresses: nullish(list(obj({ type: z.string(), address: z.string() }))),
    }),
  ),
});

export type ServiceInput = z.infer<typeof service>;
export type EndpointSliceInput = z.infer<typeof endpointSlice>;
export type EndpointsInput = z.infer<typeof endpoints>;
export type PodInput = z.infer<typeof pod>;
export type NodeInput = z.infer<typeof node>;

// ---------------------------------------------------------------------------------------------------------
// Fast path for EndpointSlice endpoints: a large input has hundreds of thousands of them, nearly all in the
// common, valid shape. `fastEndpoints` checks that shape with plain code and returns what the `endpoints`
// schema would return; on anything it does not accept it returns undefined and the caller runs the full
// schema, so errors (codes, paths, messages) are zod's, unchanged.

/** The EndpointSlice schema without `endpoints`, for use together with `fastEndpoints`. */
export const endpointSliceShell = endpointSlice.omit({ endpoints: true });

type EndpointInput = NonNullable<EndpointSliceInput['endpoints']>[number];

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalBool(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'boolean';
}

function optionalString(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'string';
}

/** `endpoints` as the schema would output it, or undefined when the full schema must decide. */
export function fastEndpoints(value: unknown): EndpointInput[] | null | undefined {
  if (value === undefined || value === null) return value;
  if (!Array.isArray(value)) return undefined;
  const out: EndpointInput[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const e: unknown = value[i];
    if (!isPlainRecord(e)) return undefined;
    const addresses = e.addresses;
    if (!Array.isArray(addresses) || addresses.length < 1 || addresses.length > 100) return undefined;
    for (let j = 0; j < addresses.length; j++) if (typeof addresses[j] !== 'string') return undefined;
    const endpoint: EndpointInput = { addresses: addresses.slice() as string[] };
    const c = e.conditions;
    if (c !== undefined) {
      if (c === null) endpoint.conditions = null;
      else {
        if (!isPlainRecord(c) || !optionalBool(c.ready) || !optionalBool(c.serving) || !optionalBool(c.terminating))
          return undefined;
        const conditions: NonNullable<EndpointInput['conditions']> = {};
        if (c.ready !== undefined) conditions.ready = c.ready as boolean | null;
        if (c.serving !== undefined) conditions.serving = c.serving as boolean | null;
        if (c.terminating !== undefined) conditions.terminating = c.terminating as boolean | null;
        endpoint.conditions = conditions;
      }
    }
    const hostname = e.hostname;
    if (hostname !== undefined) {
      if (hostname !== null && (typeof hostname !== 'string' || !isDNS1123Label(hostname))) return undefined;
      endpoint.hostname = hostname;
    }
    const nodeName = e.nodeName;
    if (nodeName !== undefined) {
      if (nodeName !== null && (typeof nodeName !== 'string' || !isDNS1123Subdomain(nodeName))) return undefined;
      endpoint.nodeName = nodeName;
    }
    const ref = e.targetRef;
    if (ref !== undefined) {
      if (ref === null) endpoint.targetRef = null;
      else {
        if (
          !isPlainRecord(ref) ||
          !optionalString(ref.kind) ||
          !optionalString(ref.namespace) ||
          !optionalString(ref.name)
        )
          return undefined;
        const targetRef: NonNullable<EndpointInput['targetRef']> = {};
        if (ref.kind !== undefined) targetRef.kind = ref.kind as string | null;
        if (ref.namespace !== undefined) targetRef.namespace = ref.namespace as string | null;
        if (ref.name !== undefined) targetRef.name = ref.name as string | null;
        endpoint.targetRef = targetRef;
      }
    }
    out[i] = endpoint;
  }
  return out;
}

/** True when `text` is an IPv4 address in canonical form (four decimal octets ≤ 255, no leading zeros): then
 * parseIP would accept it, of family 4, with `text` as its canonical text. A cheap pre-check for hot loops. */
export function isCanonicalIPv4(text: string): boolean {
  let octets = 0;
  let octet = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || octet > 255) return false;
      octets++;
      octet = 0;
      digits = 0;
      continue;
    }
    if (c < 0x30 || c > 0x39 || digits === 3 || (digits === 1 && octet === 0)) return false;
    octet = octet * 10 + (c - 0x30);
    digits++;
  }
  return octets === 4;
}

/** The Service and EndpointSlice schemas without `metadata`, for use together with `fastMetadata`. */
export const serviceShell = service.omit({ metadata: true });
export const endpointSliceBody = endpointSliceShell.omit({ metadata: true });

function copyRecord(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = value[key];
  return out;
}

/** `metadata` as the schema would output it (with `isName` as the name rule), or undefined when the full
 * schema must decide. */
export function fastMetadata(
  value: unknown,
  isName: (s: string) => boolean,
): z.infer<ReturnType<typeof metadata>> | undefined {
  if (!isPlainRecord(value)) return undefined;
  const name = value.name;
  if (typeof name !== 'string' || !isName(name)) return undefined;
  const out: z.infer<ReturnType<typeof metadata>> = { name };
  const namespace = value.namespace;
  if (namespace !== undefined) {
    if (namespace !== null && (typeof namespace !== 'string' || !isDNS1123Label(namespace))) return undefined;
    out.namespace = namespace;
  }
  const labels = value.labels;
  if (labels !== undefined) {
    if (labels === null) out.labels = null;
    else {
      if (!isPlainRecord(labels)) return undefined;
      for (const key of Object.keys(labels)) {
        const v = labels[key];
        if (!isLabelKey(key) || typeof v !== 'string' || !isLabelValue(v)) return undefined;
      }
      out.labels = copyRecord(labels) as Record<string, string>;
    }
  }
  const annotations = value.annotations;
  if (annotations !== undefined) {
    if (annotations === null) out.annotations = null;
    else {
      if (!isPlainRecord(annotations)) return undefined;
      out.annotations = copyRecord(annotations);
    }
  }
  if ('deletionTimestamp' in value) out.deletionTimestamp = value.deletionTimestamp;
  return out;
}

export const isServiceName = isDNS1035Label;
export const isObjectName = isDNS1123Subdomain;

/** The building blocks, for the schemas of other kinds (model/ingress.ts). */
export { bool, checked, cidr, int, intOrString, ip, list, metadata, nullish, obj, oneOf, str };
