/** What `kproxy doctor` reports: one problem (or explanation) of one Service, tied to the field that causes it. */
import type { Position } from '../diag/diagnostic.js';
import type { ModelCode } from '../model/codes.js';
import type { DoctorCode } from './codes.js';

export type Severity = 'error' | 'warning' | 'info';

/** The `--json` shape, field for field (tools depend on it: add fields, never rename). */
export interface Finding {
  code: DoctorCode | ModelCode;
  severity: Severity;
  /** `namespace/name` of the Service it concerns; null when it concerns no Service (e.g. a bad Pod). */
  service: string | null;
  file: string;
  /** 1-based; 0 when the problem has no position. */
  line: number;
  col: number;
  /** What is wrong and what it does to the traffic, in plain words. */
  message: string;
  /** What to do about it; null when there is nothing to do (explanations). */
  hint: string | null;
}

export function finding(
  code: Finding['code'],
  severity: Severity,
  service: string | null,
  at: Position,
  message: string,
  hint: string | null = null,
): Finding {
  // Positions may be lazy getters: copy the numbers out.
  return { code, severity, service, file: at.file, line: at.line, col: at.col, message, hint };
}

/** `namespace/name`: how findings name Services, and endpoints name Pods. */
export function objectKey(s: { namespace: string; name: string }): string {
  return `${s.namespace}/${s.name}`;
}

/** `a, b, c` or `a, b, c and 4 more`: lists in messages stay short. */
export function listSome(items: readonly string[], max = 3): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** `1 Pod` / `2 Pods`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Groups items by a key, keeping first-seen order of keys and items. */
export function groupBy<T>(items: Iterable<T>, keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
