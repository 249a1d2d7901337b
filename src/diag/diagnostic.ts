/** One problem found in the input, tied to the place that caused it. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  /** Stable machine-readable code, e.g. `E_YAML_SYNTAX`; tests assert codes, not prose. */
  code: string;
  message: string;
  /** Path as the user gave it, or `<stdin>`. */
  file: string;
  /** 1-based line and column of the offending node; 0 when the problem has no position. */
  line: number;
  col: number;
}

export interface Position {
  file: string;
  line: number;
  col: number;
}

export function error(code: string, message: string, at: Position): Diagnostic {
  return { severity: 'error', code, message, ...at };
}

export function warning(code: string, message: string, at: Position): Diagnostic {
  return { severity: 'warning', code, message, ...at };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Sorted by file, then position, then code, so output never depends on discovery order. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      compareText(a.file, b.file) ||
      a.line - b.line ||
      a.col - b.col ||
      compareText(a.code, b.code) ||
      compareText(a.message, b.message),
  );
}

/** `file:line:col: error[CODE]: message`, the format compilers and editors understand. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.file;
  return `${where}: ${d.severity}[${d.code}]: ${d.message}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
