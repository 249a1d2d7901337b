/** Doctor findings as text for people (grouped per Service, with a summary line) or JSON for tools. */
import type { DoctorReport } from './index.js';
import { groupBy, plural, type Finding, type Severity } from './finding.js';

/** The `--json` output: the findings array, one object per finding in the order of the text output. */
export function renderDoctorJson(report: DoctorReport): string {
  const findings = report.findings.map((f) => ({
    code: f.code,
    severity: f.severity,
    service: f.service,
    file: f.file,
    line: f.line,
    col: f.col,
    message: f.message,
    hint: f.hint,
  }));
  return `${JSON.stringify(findings, null, 2)}\n`;
}

const WIDTH = 110;

export function renderDoctorText(report: DoctorReport): string {
  const out: string[] = [];
  const verdicts = { broken: 0, warnings: 0, ok: 0 };
  // Service keys always hold a '/': '' groups the findings of no Service.
  const byService = groupBy(report.findings, (f) => f.service ?? '');
  for (const service of report.services) {
    const mine = byService.get(service) ?? [];
    const verdict = mine.some((f) => f.severity === 'error') ? 'broken' : mine.some((f) => f.severity === 'warning') ? 'warnings' : 'ok';
    verdicts[verdict]++;
    out.push(`Service ${service}: ${verdict === 'warnings' ? 'works, with warnings' : verdict}`);
    for (const f of mine) out.push(...renderFinding(f));
    out.push('');
  }
  const others = byService.get('') ?? [];
  if (others.length > 0) {
    out.push('Not about one Service:');
    for (const f of others) out.push(...renderFinding(f));
    out.push('');
  }
  const count = (severity: Severity) => report.findings.filter((f) => f.severity === severity).length;
  out.push(
    `${plural(report.services.length, 'Service')}: ${verdicts.broken} broken, ${verdicts.warnings} with warnings, ${verdicts.ok} ok` +
      ` (${plural(count('error'), 'error')}, ${plural(count('warning'), 'warning')}, ${plural(count('info'), 'note')})`,
  );
  return `${out.join('\n')}\n`;
}

function renderFinding(f: Finding): string[] {
  const where = f.line > 0 ? `${f.file}:${f.line}:${f.col}` : f.file;
  const lines = wrap(`${where}: ${f.severity === 'info' ? 'note' : f.severity}[${f.code}]: ${f.message}`, '  ', '      ');
  if (f.hint !== null) lines.push(...wrap(`→ ${f.hint}`, '      ', '        '));
  return lines;
}

/** Word-wraps to WIDTH columns: `first` before the first line, `rest` before the others. */
function wrap(text: string, first: string, rest: string): string[] {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(' ')) {
    const atStart = line === first || line === rest;
    if (!atStart && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = rest + word;
    } else {
      line += atStart ? word : ` ${word}`;
    }
  }
  lines.push(line);
  return lines;
}
