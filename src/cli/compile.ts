/** `kproxy compile`: manifests + node settings → the rules kube-proxy would write. */
import { formatDiagnostic, hasErrors, sortDiagnostics, type Diagnostic } from '../diag/diagnostic.js';
import { compileToText, FORMATS, loadCluster, type IptablesFormat, type NftablesFormat, type ProxyMode } from '../index.js';
import type { CliIO } from './io.js';
import { resolveNodeSettings, type NodeSettingsOptions } from './node-settings.js';
import { readInputs, readTextFile } from './read-inputs.js';
import { parseIptables } from '../parse/iptables.js';
import { previousSync } from '../proxy/iptables/previous.js';
import { explainSkipped } from './verbose.js';

export interface CompileOptions extends NodeSettingsOptions {
  mode: ProxyMode;
  format?: IptablesFormat | NftablesFormat;
  canonical?: boolean;
  backend: 'legacy' | 'nft';
  verbose?: boolean;
  /** A dump of the node before this sync (stale-chain cleanup, partial sync). */
  previous?: string;
  partial?: boolean;
}

export async function runCompile(inputs: readonly string[], options: CompileOptions, io: CliIO): Promise<number> {
  if (inputs.length === 0) return usage(io, 'no input: give manifest files, folders, or - for standard input');
  const formats = FORMATS[options.mode];
  const format = options.format ?? (formats[0] as IptablesFormat | NftablesFormat);
  if (!formats.includes(format)) {
    return usage(io, `--format ${format} is not one of the ${options.mode} formats (${formats.join(', ')})`);
  }
  if (options.canonical && format !== 'restore' && format !== 'dump') {
    return usage(io, '--canonical sorts the iptables restore payload or the nftables dump: use --format restore or dump');
  }
  if (options.previous !== undefined && options.mode !== 'iptables') {
    return usage(io, '--previous models iptables mode syncs; nftables mode is compiled as a full sync');
  }
  if (options.partial && options.previous === undefined) return usage(io, '--partial needs --previous (the node before the sync)');
  const files = readInputs(inputs, io.readStdin);
  if (files.usageErrors.length > 0) return usage(io, ...files.usageErrors);
  const previousFile = options.previous === undefined ? undefined : readTextFile(options.previous, files.usageErrors);
  if (files.usageErrors.length > 0) return usage(io, ...files.usageErrors);

  const settings = resolveNodeSettings(options, files.nodeConfigFile);
  if (!settings.ok && settings.usageError) return usage(io, settings.usageError);
  const loaded = loadCluster(files.sources);
  const node = previousFile ? parseIptables(previousFile.text, previousFile.file) : undefined;
  const diagnostics: Diagnostic[] = [...settings.diagnostics, ...loaded.diagnostics, ...(node?.diagnostics ?? [])];
  printDiagnostics(io, diagnostics);
  if (!settings.ok || !loaded.cluster || hasErrors(diagnostics)) return 1;

  if (options.verbose) io.stderr(explainSkipped(loaded.skipped, loaded.cluster));
  const previous = node ? previousSync(loaded.cluster, settings.config, node.ruleset, { partial: options.partial ?? false }) : undefined;
  io.stdout(compileToText(loaded.cluster, settings.config, { ...options, format }, previous));
  return 0;
}

export function printDiagnostics(io: CliIO, diagnostics: readonly Diagnostic[]): void {
  for (const diagnostic of sortDiagnostics(diagnostics)) io.stderr(`${formatDiagnostic(diagnostic)}\n`);
}

export function usage(io: CliIO, ...messages: string[]): number {
  for (const message of messages) io.stderr(`kproxy: ${message}\n`);
  return 2;
}
