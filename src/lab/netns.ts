/**
 * The one module of the lab that touches the machine: it runs `ip`, `sysctl`, `iptables-*-restore`, `nft` and
 * `nfacct` (always inside a namespace the lab created, never in the root namespace) and starts the agent and
 * prober programs there. Everything created is recorded in a `LabSession` and removed by `destroySession`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';

/** Namespace names: `kpl-<pid>-<random>-<role>`; the pid lets a later run tell stale namespaces from live ones. */
export const LAB_PREFIX = 'kpl-';

/** A failure of a command the lab ran: which command, what it printed. */
export class LabError extends Error {}

export interface LabSession {
  /** `kpl-<pid>-<random>`: every namespace of this run starts with it. */
  prefix: string;
  /** Namespaces created so far, in creation order. */
  namespaces: string[];
  /** Agents and probers started so far. */
  children: ChildProcess[];
}

export function newSession(): LabSession {
  return { prefix: `${LAB_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`, namespaces: [], children: [] };
}

function commandExists(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0;
}

/** Why the lab cannot run here (one line), or undefined when it can. */
export function labToolsProblem(binaries: readonly string[]): string | undefined {
  if (process.getuid?.() !== 0) return 'the lab needs root (it creates network namespaces): run it with sudo';
  if (!commandExists('ip') || spawnSync('ip', ['netns', 'list']).status !== 0) return 'the lab needs `ip netns` (package iproute2)';
  for (const binary of binaries) if (!commandExists(binary)) return `the lab needs ${binary}, which is not installed`;
  return undefined;
}

function check(result: ReturnType<typeof spawnSync>, what: string): string {
  if (result.error) throw new LabError(`${what}: ${result.error.message}`);
  if (result.status !== 0) throw new LabError(`${what} failed (exit ${result.status}): ${String(result.stderr).trim()}`);
  return String(result.stdout);
}

/** Runs a command inside namespace `ns`; throws LabError when it fails. */
export function runIn(ns: string, argv: readonly string[], input?: string): string {
  return check(spawnSync('ip', ['netns', 'exec', ns, ...argv], { input, encoding: 'utf8' }), `${argv[0]} in ${ns}`);
}

export function createNamespace(session: LabSession, ns: string): void {
  check(spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' }), `ip netns add ${ns}`);
  session.namespaces.push(ns);
}

/** `ip -n NS -batch -`: many address/link/route commands in one process. */
export function ipBatch(ns: string, commands: readonly string[]): void {
  if (commands.length === 0) return;
  check(spawnSync('ip', ['-n', ns, '-batch', '-'], { input: `${commands.join('\n')}\n`, encoding: 'utf8' }), `ip -n ${ns} -batch`);
}

export function setSysctls(ns: string, settings: readonly string[]): void {
  if (settings.length > 0) runIn(ns, ['sysctl', '-q', ...settings.flatMap((s) => ['-w', s])]);
}

/** `iptables-<backend>-restore --noflush`: adds to what is loaded, as kube-proxy's restore does. */
export function iptablesRestore(ns: string, backend: 'legacy' | 'nft', text: string): void {
  runIn(ns, [`iptables-${backend}-restore`, '--noflush'], text);
}

export function nftLoad(ns: string, text: string): void {
  runIn(ns, ['nft', '-f', '-'], text);
}

export function nfacctAdd(ns: string, name: string): void {
  runIn(ns, ['nfacct', 'add', name]);
}

/**
 * Starts `program(args)` with this Node.js inside `ns` and resolves once it printed `ready`. The program's
 * source text is passed with `-e`, so the lab runs from the TypeScript sources (tests) as well as from dist/.
 */
export function startProgram(session: LabSession, ns: string, program: (...args: never[]) => void, args: unknown[], readyTimeoutMs = 20_000): Promise<ChildProcess> {
  const source = `(${program.toString()})(...${JSON.stringify(args)})`;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', source], { stdio: ['pipe', 'pipe', 'pipe'] });
  session.children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const timer = setTimeout(() => reject(new LabError(`${program.name} in ${ns} did not start within ${readyTimeoutMs} ms ${stderr.trim()}`)), readyTimeoutMs);
    const onLine = (line: string) => {
      if (line !== 'ready') {
        clearTimeout(timer);
        reject(new LabError(`${program.name} in ${ns}: ${line} ${stderr.trim()}`.trim()));
        return;
      }
      clearTimeout(timer);
      lines.off('line', onLine);
      lines.close();
      resolve(child);
    };
    lines.on('line', onLine);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new LabError(`${program.name} in ${ns} exited (${code}) before it was ready: ${stderr.trim()}`));
    });
  });
}

/** Kills every started program and deletes every namespace of the session; never throws. */
export function destroySession(session: LabSession): void {
  for (const child of session.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const ns of [...session.namespaces].reverse()) deleteNamespace(ns);
  session.children.length = 0;
  session.namespaces.length = 0;
}

function deleteNamespace(ns: string): void {
  // Processes keep a namespace's interfaces alive after its name is gone: kill what still runs inside.
  const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
  for (const pid of pids.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  spawnSync('ip', ['netns', 'del', ns]);
}

/** Namespaces of earlier lab runs whose process is gone (a crash, a kill -9): removed before a new run. */
export function removeStaleNamespaces(): string[] {
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  const stale: string[] = [];
  for (const line of listed.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const match = /^kpl-(\d+)-/.exec(name);
    if (!match || processAlive(Number(match[1]))) continue;
    deleteNamespace(name);
    stale.push(name);
  }
  return stale;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
