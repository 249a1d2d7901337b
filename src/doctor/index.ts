/**
 * `kproxy doctor`: everything that makes a Service not work, or work other than one expects, each tied to
 * the field that causes it. Pure: sources + node settings (+ the client's traced pings) → findings.
 *
 *   sources ──loadManifests──► objects ──buildCluster──► Cluster ──proxyServicePorts──► kube-proxy's view
 *                                  └───────────── checks (selector, ports, endpoints, exposure, cluster IPs, ExternalName, ping)
 *
 * Unlike compile, doctor does not stop at load errors: objects the model refused are explained, the rest
 * are still checked.
 */
import { buildCluster } from '../cluster/build.js';
import { loadManifests } from '../model/load.js';
import type { NodeConfig } from '../model/node-config.js';
import type { Source } from '../model/source.js';
import { checkClusterIPs } from './cluster-ips.js';
import { makeContext } from './context.js';
import { checkEndpoints } from './endpoints.js';
import { checkExposure, checkNodePortCollisions } from './exposure.js';
import { checkExternalName } from './external-name.js';
import type { Finding } from './finding.js';
import { indexObjects } from './locate.js';
import { fromModelDiagnostics } from './model-diagnostics.js';
import { explainPing, type PingProbe } from './ping.js';
import { checkSelector } from './selector.js';
import { checkTargetPorts } from './target-ports.js';

export interface DoctorInput {
  sources: readonly Source[];
  config: NodeConfig;
  pings?: readonly PingProbe[];
}

export interface DoctorReport {
  /** Every Service of the input (refused ones too), `namespace/name`, in input order. */
  services: string[];
  /** Grouped by Service in the order of `services`, then findings of no Service; by position within a group. */
  findings: Finding[];
}

export function diagnose(input: DoctorInput): DoctorReport {
  const loaded = loadManifests(input.sources);
  const built = buildCluster(loaded.objects);
  const index = indexObjects(input.sources);
  const ctx = makeContext(loaded.objects, built.cluster, input.config, index);
  const findings = [
    ...fromModelDiagnostics([...loaded.diagnostics, ...built.diagnostics], ctx),
    ...ctx.services.flatMap((view) => [
      ...checkSelector(view, ctx),
      ...checkTargetPorts(view),
      ...checkEndpoints(view, ctx),
      ...checkExposure(view),
      ...checkExternalName(view),
    ]),
    ...checkNodePortCollisions(ctx),
    ...checkClusterIPs(ctx),
    ...(input.pings ?? []).map((probe) => explainPing(probe, ctx)),
  ];
  const services = [...new Set(index.all().filter((o) => o.kind === 'Service').map((o) => `${o.namespace}/${o.name}`))];
  return { services, findings: sortFindings(findings, services) };
}

function sortFindings(findings: readonly Finding[], services: readonly string[]): Finding[] {
  const order = new Map(services.map((s, i) => [s, i]));
  const rank = (f: Finding) => (f.service === null ? services.length : (order.get(f.service) ?? services.length));
  return [...findings].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      compareText(a.file, b.file) ||
      a.line - b.line ||
      a.col - b.col ||
      compareText(a.code, b.code) ||
      compareText(a.message, b.message),
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export type { Finding, Severity } from './finding.js';
export type { PingProbe, PingTrace } from './ping.js';
