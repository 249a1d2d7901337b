/**
 * The only file-system code of the input side: turns the command line's paths into sources for
 * `loadManifests`. Files are taken as given; folders are walked recursively in sorted order for `*.yaml`,
 * `*.yml` and `*.json` (dot-entries skipped); `-` is standard input.
 *
 * A file named exactly `node.yaml` inside a folder is node settings, never manifests: the one at the top of a
 * folder argument is returned as `nodeConfigFile` (the CLI uses it unless `--node-config` is given); deeper
 * ones are left alone. A `node.yaml` named explicitly on the command line is read as manifests.
 */
import { isAscii } from 'node:buffer';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Source } from '../model/source.js';

export interface InputFiles {
  sources: Source[];
  /** `node.yaml` at the top of a folder argument. */
  nodeConfigFile?: string;
  /** Problems with the paths themselves (missing, unreadable, nothing to read): exit code 2. */
  usageErrors: string[];
}

const MANIFEST = /\.(ya?ml|json)$/i;
const NODE_CONFIG = 'node.yaml';

export function readInputs(paths: readonly string[], readStdin: () => string): InputFiles {
  const sources: Source[] = [];
  const usageErrors: string[] = [];
  const nodeConfigs: string[] = [];
  const visited = new Set<string>();
  let stdinRead = false;

  const walk = (dir: string, top: boolean): void => {
    const real = realpathSync(dir);
    if (visited.has(real)) return; // a symlink loop
    visited.add(real);
    const names = readdirSync(dir).filter((n) => !n.startsWith('.')).sort(compareText);
    for (const name of names) {
      const path = join(dir, name);
      let stat;
      try {
        stat = statSync(path);
      } catch {
        continue; // a dangling symlink inside a folder is not the user's request
      }
      if (stat.isDirectory()) walk(path, false);
      else if (name === NODE_CONFIG) {
        if (top) nodeConfigs.push(path);
      } else if (stat.isFile() && MANIFEST.test(name)) {
        const source = readSource(path, usageErrors);
        if (source) sources.push(source);
      }
    }
  };

  for (const path of paths) {
    if (path === '-') {
      if (stdinRead) {
        usageErrors.push('- (standard input) given more than once');
        continue;
      }
      stdinRead = true;
      sources.push({ file: '<stdin>', text: stripBOM(readStdin()) });
      continue;
    }
    let stat;
    try {
      stat = statSync(path);
    } catch {
      usageErrors.push(`${path}: no such file or folder`);
      continue;
    }
    if (stat.isDirectory()) {
      const before = sources.length + nodeConfigs.length;
      walk(path, true);
      if (sources.length + nodeConfigs.length === before) usageErrors.push(`${path}: no .yaml, .yml or .json files in this folder`);
    } else {
      const source = readSource(path, usageErrors);
      if (source) sources.push(source);
    }
  }
  if (paths.length === 0) usageErrors.push('no input: give manifest files, folders, or - for standard input');
  if (nodeConfigs.length > 1) {
    usageErrors.push(`several node.yaml files (${nodeConfigs.join(', ')}): choose one with --node-config`);
  }
  return { sources, ...(nodeConfigs.length === 1 ? { nodeConfigFile: nodeConfigs[0] } : {}), usageErrors };
}

/** Reads one text file (also for --node-config / --config); undefined with a usage error when unreadable. */
export function readTextFile(path: string, usageErrors: string[]): Source | undefined {
  return readSource(path, usageErrors);
}

function readSource(path: string, usageErrors: string[]): Source | undefined {
  try {
    return { file: path, text: readText(path) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    usageErrors.push(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : 'cannot be read'}`);
    return undefined;
  }
}

/**
 * A file's text; throws when the file cannot be read. Invalid UTF-8 becomes U+FFFD, which loadManifests
 * reports as E_BINARY with its position. Manifests are nearly always ASCII, which decodes as Latin-1 to the
 * same text several times faster (tens of ms on a 30 MB List).
 */
export function readText(path: string): string {
  const bytes = readFileSync(path);
  return isAscii(bytes) ? bytes.toString('latin1') : new TextDecoder('utf-8').decode(bytes);
}

function stripBOM(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
