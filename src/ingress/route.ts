/**
 * L7 routing as ingress-nginx does it. The controller turns the Ingresses it serves into an nginx
 * configuration, and nginx picks a `server` by the Host header and a `location` in it by the path:
 *
 * Servers. One per host named in a rule; rules without a host go to the catch-all server `_`. Each server
 * starts with `location /` → the `spec.defaultBackend` of the first Ingress that names the host, else the
 * controller's default backend (it answers 404). An Ingress with a default backend and no rules becomes the
 * catch-all server's `location /`.
 * Host match (nginx `server_name`): the exact name first, then the longest wildcard `*.example.com`, then `_`.
 * The Ingress API defines `*.example.com` as one label; nginx's wildcard also matches deeper names
 * (a.b.example.com), and ingress-nginx writes the wildcard as it is: kproxy follows nginx and says so.
 * Locations (pathType):
 *   Exact /foo                → `location = /foo`
 *   Prefix /foo               → `location /foo/` and `location = /foo`: a match element by element on `/`
 *   Prefix /foo/              → `location /foo/` and `location = /foo/` (ingress-nginx's updateServerLocations
 *                               keeps the path as written for the exact one, so unlike the API's definition
 *                               /foo does not match)
 *   Prefix /                  → `location /`
 *   ImplementationSpecific /foo → `location /foo`: a plain string prefix (/foo matches /foobar); with the
 *                               `nginx.ingress.kubernetes.io/use-regex` (or rewrite-target) annotation it is
 *                               a case-insensitive regex instead, which kproxy does not evaluate (it says so).
 * nginx takes an exact location that equals the path, else the longest prefix location. Two Ingresses with the
 * same host and path: ingress-nginx keeps the oldest (creationTimestamp); kproxy uses input order. An Exact path
 * wins over the `= /foo` a Prefix /foo adds, whatever their order.
 * Ingresses of another class are not served (see `servedBy`).
 */
import type { Ingress, IngressBackend, IngressPath } from '../cluster/types.js';
import { NGINX_CLASS } from './controller.js';

/** Where a location sends the request. */
export type LocationTarget =
  | { kind: 'backend'; ingress: Ingress; backend: IngressBackend }
  | { kind: 'default-backend' };

export interface NginxLocation {
  match: 'exact' | 'prefix';
  path: string;
  target: LocationTarget;
  /** The Ingress path this location was written for; undefined for a server's root location. */
  source?: { ingress: Ingress; rule: number; index: number; path: IngressPath };
  /** What wrote it, in words (`Prefix /foo of Ingress default/kubia`, `root of the server`). */
  origin: string;
}

export interface NginxServer {
  /** Host name, `*.suffix`, or `_` (catch-all). */
  name: string;
  locations: NginxLocation[];
  /** Ingresses with a rule for this server, in input order. */
  ingresses: Ingress[];
}

export interface NginxConfig {
  servers: Map<string, NginxServer>;
  /** Ingresses the controller ignores, and why. */
  ignored: { ingress: Ingress; reason: string }[];
  /** Locations a later Ingress path wanted but an earlier one already had. */
  shadowed: string[];
  /** Ingresses served on an assumption (no ingressClassName), and the assumption. */
  assumed: string[];
}

/** Whether ingress-nginx (class `nginx`) serves this Ingress; `reason` says why (not). */
export function servedBy(ingress: Ingress, className = NGINX_CLASS): { served: boolean; reason: string } {
  if (ingress.ingressClassName === undefined) {
    return { served: true, reason: `no ingressClassName: served, assuming the ${className} IngressClass is the cluster's default (ingress-nginx ignores class-less Ingresses otherwise)` };
  }
  return ingress.ingressClassName === className
    ? { served: true, reason: `ingressClassName ${className}` }
    : { served: false, reason: `ingressClassName ${ingress.ingressClassName}: another controller's, ingress-nginx (${className}) ignores it` };
}

function ingressId(ingress: Ingress): string {
  return `${ingress.namespace}/${ingress.name}`;
}

function rootLocation(target: LocationTarget, origin: string): NginxLocation {
  return { match: 'prefix', path: '/', target, origin };
}

/** The nginx configuration ingress-nginx writes for these Ingresses. */
export function buildNginxConfig(ingresses: readonly Ingress[], className = NGINX_CLASS): NginxConfig {
  const ignored: NginxConfig['ignored'] = [];
  const assumed: string[] = [];
  const served: Ingress[] = [];
  for (const ingress of ingresses) {
    const verdict = servedBy(ingress, className);
    if (!verdict.served) ignored.push({ ingress, reason: verdict.reason });
    else {
      served.push(ingress);
      if (ingress.ingressClassName === undefined) assumed.push(`Ingress ${ingressId(ingress)}: ${verdict.reason}`);
    }
  }
  const servers = createServers(served);
  const shadowed: string[] = [];
  // First the locations the paths ask for, then the `= /foo` each Prefix adds, so an Exact path always wins.
  const derivedExact: [NginxServer, NginxLocation][] = [];
  for (const ingress of served) {
    ingress.rules.forEach((rule, r) => {
      const server = servers.get(serverName(rule.host)) as NginxServer;
      rule.paths.forEach((path, index) => {
        const source = { ingress, rule: r, index, path };
        const target: LocationTarget = { kind: 'backend', ingress, backend: path.backend };
        const origin = `${path.pathType} ${path.path || '(no path)'} of Ingress ${ingressId(ingress)}`;
        for (const [match, text] of locationsFor(path)) {
          const location: NginxLocation = { match, path: text, target, source, origin };
          if (path.pathType === 'Prefix' && match === 'exact') derivedExact.push([server, location]);
          else addLocation(server, location, shadowed);
        }
      });
    });
  }
  for (const [server, location] of derivedExact) {
    if (!server.locations.some((l) => l.match === 'exact' && l.path === location.path)) server.locations.push(location);
  }
  return { servers, ignored, shadowed, assumed };
}

/** The server a rule's host goes to: its own, or the catch-all `_` for a rule without a host. */
function serverName(host: string): string {
  return host === '' ? '_' : host.toLowerCase();
}

/** The catch-all server and one server per host, each with its root location (no paths yet). */
function createServers(served: readonly Ingress[]): Map<string, NginxServer> {
  const defaultRoot = () => rootLocation({ kind: 'default-backend' }, "the controller's default backend");
  const catchAll: NginxServer = { name: '_', locations: [defaultRoot()], ingresses: [] };
  const catchAllIngress = served.find((i) => i.defaultBackend && i.rules.length === 0);
  if (catchAllIngress?.defaultBackend) {
    catchAll.locations[0] = rootLocation({ kind: 'backend', ingress: catchAllIngress, backend: catchAllIngress.defaultBackend }, `spec.defaultBackend of Ingress ${ingressId(catchAllIngress)} (it has no rules)`);
  }
  const servers = new Map([['_', catchAll]]);
  for (const ingress of served) {
    for (const rule of ingress.rules) {
      const name = serverName(rule.host);
      let server = servers.get(name);
      if (!server) {
        const root = ingress.defaultBackend
          ? rootLocation({ kind: 'backend', ingress, backend: ingress.defaultBackend }, `spec.defaultBackend of Ingress ${ingressId(ingress)}`)
          : defaultRoot();
        servers.set(name, (server = { name, locations: [root], ingresses: [] }));
      }
      if (!server.ingresses.includes(ingress)) server.ingresses.push(ingress);
    }
  }
  return servers;
}

/** The nginx locations ingress-nginx writes for one Ingress path. */
function locationsFor(path: IngressPath): ['exact' | 'prefix', string][] {
  switch (path.pathType) {
    case 'Exact':
      return [['exact', path.path]];
    case 'Prefix':
      return path.path === '/' ? [['prefix', '/']] : [['prefix', path.path.endsWith('/') ? path.path : `${path.path}/`], ['exact', path.path]];
    case 'ImplementationSpecific':
      return [['prefix', path.path || '/']];
  }
}

/** A path's location replaces the server's root location; otherwise the first one written stays. */
function addLocation(server: NginxServer, location: NginxLocation, shadowed: string[]): void {
  const i = server.locations.findIndex((l) => l.match === location.match && l.path === location.path);
  const existing = server.locations[i];
  if (!existing) server.locations.push(location);
  else if (!existing.source) server.locations[i] = location;
  else shadowed.push(`${server.name}: ${location.origin} is ignored, ${existing.origin} already has location ${describeLocation(existing)}`);
}

export function describeLocation(location: NginxLocation): string {
  return location.match === 'exact' ? `= ${location.path}` : location.path;
}

// ---------------------------------------------------------------------------------------------------------

export interface HostMatch {
  server: NginxServer;
  kind: 'exact' | 'wildcard' | 'catch-all';
  why: string;
}

/** nginx's server_name lookup: exact name, then the longest matching `*.suffix`, then `_`. */
export function matchHost(config: NginxConfig, host: string): HostMatch {
  const name = host.toLowerCase().replace(/\.$/, '');
  const exact = config.servers.get(name);
  if (exact && name !== '_') return { server: exact, kind: 'exact', why: `host ${name} has a rule of its own` };
  let best: NginxServer | undefined;
  for (const server of config.servers.values()) {
    if (!server.name.startsWith('*.')) continue;
    const suffix = server.name.slice(1);
    if (name.endsWith(suffix) && name.length > suffix.length && (!best || server.name.length > best.name.length)) best = server;
  }
  if (best) {
    const labels = name.slice(0, name.length - best.name.length + 1).split('.').length;
    const deeper = labels > 1
      ? ` — ${labels} labels stand for the *: the Ingress API says a wildcard is one label, but nginx's server_name wildcard matches any depth and ingress-nginx writes it as is`
      : '';
    return { server: best, kind: 'wildcard', why: `no rule names ${name} itself; the wildcard ${best.name} matches${deeper}` };
  }
  const others = [...config.servers.keys()].filter((n) => n !== '_');
  return {
    server: config.servers.get('_') as NginxServer,
    kind: 'catch-all',
    why: `no rule names ${name}${others.length ? ` (rules name ${others.join(', ')})` : ''}: the catch-all server _ answers (rules without a host, else the default backend)`,
  };
}

export interface LocationCheck {
  location: NginxLocation;
  matched: boolean;
  why: string;
}

export interface PathMatch {
  location: NginxLocation;
  /** Every location of the server, matched or not, and why, in the order nginx considers them. */
  checks: LocationCheck[];
}

/** nginx's location lookup: an exact location equal to the path, else the longest prefix location. */
export function matchPath(server: NginxServer, path: string): PathMatch {
  const exact = server.locations.filter((l) => l.match === 'exact');
  const prefix = [...server.locations.filter((l) => l.match === 'prefix')].sort((a, b) => b.path.length - a.path.length);
  const hit = exact.find((l) => l.path === path) ?? prefix.find((l) => path.startsWith(l.path)) as NginxLocation;
  const checks = [...exact, ...prefix].map((location): LocationCheck => {
    const matched = location.match === 'exact' ? location.path === path : path.startsWith(location.path);
    let why: string;
    if (location.match === 'exact') why = matched ? `${path} is exactly ${location.path}` : `${path} is not exactly ${location.path}`;
    else if (!matched) why = `${path} does not start with ${location.path}`;
    else why = location === hit ? `${path} starts with ${location.path}, the longest matching prefix` : `${path} starts with ${location.path}, but a ${hit.match === 'exact' ? 'exact location' : 'longer prefix'} wins`;
    return { location, matched, why };
  });
  return { location: hit, checks };
}

/** The path nginx matches locations against: percent-decoded, `.`/`..` resolved, repeated slashes merged. */
export function normalizePath(raw: string): string {
  const parts = raw.split('/').map(decodeSegment);
  const segments: string[] = [];
  for (const part of parts) {
    if (part === '..') segments.pop();
    else if (part !== '' && part !== '.') segments.push(part);
  }
  const last = parts[parts.length - 1];
  const trailingSlash = segments.length > 0 && (last === '' || last === '.' || last === '..');
  return `/${segments.join('/')}${trailingSlash ? '/' : ''}`;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // a malformed escape is matched as written
  }
}

/** Annotations that turn this server's paths into regular expressions (kproxy matches them as prefixes). */
export function regexAnnotations(server: NginxServer): string[] {
  const out: string[] = [];
  for (const ingress of server.ingresses) {
    for (const key of ['nginx.ingress.kubernetes.io/use-regex', 'nginx.ingress.kubernetes.io/rewrite-target']) {
      const value = ingress.annotations[key];
      if (value !== undefined && (key.endsWith('rewrite-target') || value === 'true')) out.push(`${key} on Ingress ${ingressId(ingress)}`);
    }
  }
  return out;
}

/** Whether the server has a TLS certificate: some served Ingress lists the host under spec.tls. */
export function tlsFor(server: NginxServer, host: string): { ingress: Ingress; secretName: string | undefined } | undefined {
  for (const ingress of server.ingresses) {
    for (const tls of ingress.tls) {
      if (tls.hosts.some((h) => h.toLowerCase() === host || (h.startsWith('*.') && host.endsWith(h.slice(1))))) return { ingress, secretName: tls.secretName };
    }
  }
  return undefined;
}
