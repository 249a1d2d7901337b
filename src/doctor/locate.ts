/**
 * Where things are in the input, for fields the model does not keep positions of (spec.type, nodePort,
 * externalTrafficPolicy, a Pod's Ready condition, ...), and which object a model diagnostic falls in (so a
 * load error can be shown under its Service). Reads the sources again with the model's own parser: the same
 * positions as the model's diagnostics, and even objects the model refused are found.
 */
import type { Position } from '../diag/diagnostic.js';
import { parseSource, type ParsedDocument, type Path, type Source } from '../model/source.js';

export interface LocatedObject {
  kind: string;
  namespace: string;
  name: string;
  /** An EndpointSlice's `kubernetes.io/service-name` label. */
  serviceName?: string;
  at: Position;
  locate(path: Path): Position;
  /** The object as written (plain JSON value). */
  value: Record<string, unknown>;
}

export interface ObjectIndex {
  find(kind: string, namespace: string, name: string): LocatedObject | undefined;
  /** Every object, in input order. */
  all(): LocatedObject[];
  /** The object whose text contains this position (the last one that starts at or before it in that file). */
  enclosing(at: Position): LocatedObject | undefined;
}

const CLUSTER_SCOPED = new Set(['Node']);

export function indexObjects(sources: readonly Source[]): ObjectIndex {
  const byFile = new Map<string, LocatedObject[]>();
  const byKey = new Map<string, LocatedObject>();
  for (const source of sources) {
    const objects: LocatedObject[] = [];
    for (const doc of parseSource(source).documents) collect(doc, doc.value, [], undefined, objects);
    byFile.set(source.file, objects);
    for (const o of objects) {
      const key = `${o.kind}/${o.namespace}/${o.name}`;
      if (!byKey.has(key)) byKey.set(key, o);
    }
  }
  return {
    find: (kind, namespace, name) => byKey.get(`${kind}/${namespace}/${name}`),
    all: () => [...byFile.values()].flat(),
    enclosing(at) {
      let found: LocatedObject | undefined;
      for (const o of byFile.get(at.file) ?? []) {
        if (o.at.line < at.line || (o.at.line === at.line && o.at.col <= at.col)) found = o;
      }
      return found;
    },
  };
}

/** Objects and the items of Lists (which may leave kind/apiVersion to the List's kind, e.g. ServiceList). */
function collect(doc: ParsedDocument, value: unknown, base: Path, inheritedKind: string | undefined, out: LocatedObject[]): void {
  if (!isRecord(value)) return;
  const kind = typeof value.kind === 'string' ? value.kind : inheritedKind;
  if (kind === undefined) return;
  if (kind.endsWith('List') && Array.isArray(value.items)) {
    const itemKind = kind === 'List' ? undefined : kind.slice(0, -'List'.length);
    value.items.forEach((item, i) => collect(doc, item, [...base, 'items', i], itemKind, out));
    return;
  }
  const metadata = isRecord(value.metadata) ? value.metadata : {};
  const labels = isRecord(metadata.labels) ? metadata.labels : {};
  const serviceName = labels['kubernetes.io/service-name'];
  out.push({
    kind,
    namespace: CLUSTER_SCOPED.has(kind) ? '' : typeof metadata.namespace === 'string' ? metadata.namespace : 'default',
    name: typeof metadata.name === 'string' ? metadata.name : '',
    ...(typeof serviceName === 'string' ? { serviceName } : {}),
    at: doc.locate(base),
    locate: (path) => doc.locate([...base, ...path]),
    value,
  });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
