/**
 * zod issues → (code, path, message). Codes ride in messages as `[CODE] text` (see schemas.ts); an unknown key
 * of a strict object becomes one E_CONFIG_KEY per key, pointing at the key.
 */
import type { ModelCode } from './codes.js';
import type { Path } from './source.js';

export interface CodedIssue {
  code: ModelCode;
  path: Path;
  message: string;
  /** Point at the key rather than the value (unknown keys). */
  key: boolean;
}

interface ZodIssueLike {
  code?: string;
  message: string;
  path: PropertyKey[];
  keys?: string[];
  /** Nested issues (a record key that failed its own schema). */
  issues?: ZodIssueLike[];
}

export function codedIssues(issues: readonly ZodIssueLike[]): CodedIssue[] {
  const out: CodedIssue[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys' && issue.keys) {
      for (const k of issue.keys) out.push({ code: 'E_CONFIG_KEY', path: [...path, k], message: 'unknown key', key: true });
      continue;
    }
    if (issue.code === 'invalid_key' && issue.issues?.[0]) {
      const inner = codedIssues([issue.issues[0]])[0];
      if (inner) out.push({ ...inner, path, key: true });
      continue;
    }
    const match = /^\[([A-Z_]+)\] (.*)$/s.exec(issue.message);
    out.push({
      code: (match?.[1] ?? 'E_FIELD') as ModelCode,
      path,
      message: match?.[2] ?? issue.message,
      key: false,
    });
  }
  return out;
}

/** `spec.ports[0].port: ` (empty for the root). */
export function formatPath(path: Path): string {
  if (path.length === 0) return '';
  let out = '';
  for (const step of path) out += typeof step === 'number' ? `[${step}]` : out === '' ? step : `.${step}`;
  return `${out}: `;
}
