/** `kproxy compile`: manifests + node settings → the rules kube-proxy would write. */
import { formatDiagnostic, hasErrors, sortDiagnostics, type Diagnostic } from '../diag/diagnostic.js';
import { compileToText, FORMATS, loadCluster, type IptablesFormat, type NftablesFormat, type ProxyMode } from '../index.js';
import type { CliIO } from './io.js';
import { resolveNodeSettings, type NodeSettingsOptions } from './node-settings.js';
import { readInputs } from './read-inputs.js';
import { explainSkipped } from './verbose.js';

export interface CompileOptions extends NodeSettingsOptions {
  mode: ProxyMode;
  format?: IptablesFormat | NftablesFormat;
  canonical?: boolean;
  backend: 'legacy' | 'nft';
  verbose?: boolean;
}

export async function runCompile(inputs: readonly string[], options: CompileOptions, io: CliIO): Promise<number> {
  if (inputs.length === 0) return usage(io, 'no input: give manifest files, folders, or - for standard input');
  const formats = FORMATS[options.mode];
  const format = options.format ?? (formats[0] as IptablesFormat | NftablesFormat);
  if (!formats.includes(format)) {
    return usage(io, `--format ${format} is not a ${options.mode} format (use one of ${formats.join(', ')})`);
  }
  if (options.canonical && format !== 'restore' && format !== 'dump') {
    return usage(io, '--canonical sorts the iptables restore payload or the nftables dump: use --format restore or dump');
  }
  const files = readInputs(inputs, io.readStdin);
  if (files.usageErrors.length > 0) return usage(io, ...files.usageErrors);

  const settings = resolveNodeSettings(options, files.nodeConfigFile);
  if (!settings.ok && settings.usageError) return usage(io, settings.usageError);
  const loaded = loadCluster(files.sources);
  const diagnostics: Diagnostic[] = [...settings.diagnostics, ...loaded.diagnostics];
  printDiagnostics(io, diagnostics);
  if (!settings.ok || !loaded.cluster || hasErrors(diagnostics)) return 1;

  if (options.verbose) io.stderr(explainSkipped(loaded.skipped, loaded.cluster));
  io.stdout(compileToText(loaded.cluster, settings.config, { ...options, format }));
  return 0;
}

export function printDiagnostics(io: CliIO, diagnostics: readonly Diagnostic[]): void {
  for (const diagnostic of sortDiagnostics(diagnostics)) io.stderr(`${formatDiagnostic(diagnostic)}\n`);
}

export function usage(io: CliIO, ...messages: string[]): number {
  for (const message of messages) io.stderr(`kproxy: ${message}\n`);
  return 2;
}
