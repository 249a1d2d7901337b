/** The lab's results as a table (flow, emulator prediction, kernel observation, agree) or as JSON. */
import type { FlowResult, LabReport } from './run.js';

export interface ReportCounts {
  agree: number;
  disagree: number;
  skipped: number;
}

export function countResults(report: LabReport): ReportCounts {
  const counts = { agree: 0, disagree: 0, skipped: 0 };
  for (const r of report.results) {
    if (!r.comparison) counts.skipped += 1;
    else if (r.comparison.agree) counts.agree += 1;
    else counts.disagree += 1;
  }
  return counts;
}

function row(r: FlowResult): [string, string, string, string] {
  if (!r.comparison) return [r.flow.name, '-', `not sent: ${r.skipped ?? ''}`, 'skipped'];
  const c = r.comparison;
  const chi = c.chiSquare ? ` [chi² p=${c.chiSquare.p.toPrecision(2)}]` : '';
  return [r.flow.name, c.predicted, `${c.observed}${chi}`, c.agree ? 'yes' : 'NO'];
}

export function renderReportTable(report: LabReport): string {
  const rows = [['flow', 'emulator', 'kernel', 'agree'], ...report.results.map(row)];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const lines: string[] = [];
  rows.forEach((r, index) => {
    lines.push(r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] as number) : cell)).join('  ').trimEnd());
    const result = index > 0 ? report.results[index - 1] : undefined;
    for (const problem of result?.comparison?.problems ?? []) lines.push(`    ✗ ${problem}`);
  });
  return `${lines.join('\n')}\n${summaryLine(report)}\n`;
}

export function summaryLine(report: LabReport): string {
  const counts = countResults(report);
  const t = report.timings;
  const ms = (x: number) => `${Math.round(x)} ms`;
  const notes = report.notes.map((n) => `\nnote: ${n}`).join('');
  return (
    `${report.mode} mode: ${report.results.length} flows, ${counts.agree} agree, ${counts.disagree} disagree, ${counts.skipped} skipped` +
    ` (topology ${ms(t.topology)}, rules ${ms(t.rules)}, agents ${ms(t.agents)}, probes ${ms(t.probes)})${notes}`
  );
}

/** One line per flow: for the default output. */
export function renderReportLines(report: LabReport): string {
  const lines = report.results.map((r) => {
    const [flow, , kernel, agree] = row(r);
    return `${agree === 'yes' ? 'agree   ' : agree === 'NO' ? 'DISAGREE' : 'skipped '} ${flow}: ${kernel}${(r.comparison?.problems ?? []).map((p) => `\n         ✗ ${p}`).join('')}`;
  });
  return `${lines.join('\n')}\n${summaryLine(report)}\n`;
}

export function reportJson(report: LabReport): string {
  return `${JSON.stringify(
    {
      mode: report.mode,
      timings: report.timings,
      notes: report.notes,
      flows: report.results.map((r) => ({
        name: r.flow.name,
        packet: r.flow.spec,
        connections: r.connections,
        ...(r.skipped ? { skipped: r.skipped } : {}),
        ...(r.comparison
          ? {
              emulator: r.comparison.predicted,
              kernel: r.comparison.observed,
              agree: r.comparison.agree,
              problems: r.comparison.problems,
              ...(r.comparison.chiSquare ? { chiSquare: r.comparison.chiSquare } : {}),
            }
          : {}),
      })),
    },
    null,
    2,
  )}\n`;
}
