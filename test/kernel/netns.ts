/**
 * Scratch network namespaces for tests that ask the real kernel or the real iptables/nft binaries.
 * Names are unique per run; every namespace is deleted in `finally`, whatever happened inside.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export const NETNS_PREFIX = 'kpxtest-';

export interface KernelTools {
  available: boolean;
  /** Why the kernel tests cannot run here (not root, a missing binary). */
  reason: string;
}

export function kernelTools(binaries: readonly string[]): KernelTools {
  if (process.getuid?.() !== 0) return { available: false, reason: 'not running as root' };
  for (const binary of ['ip', ...binaries]) {
    if (spawnSync('sh', ['-c', `command -v ${binary}`]).status !== 0) {
      return { available: false, reason: `${binary} is not installed` };
    }
  }
  return { available: true, reason: '' };
}

/** In CI the kernel tests must run: a missing tool is a failure there, a visible skip elsewhere. */
export function requireKernelInCI(tools: KernelTools): void {
  if (!tools.available && process.env.CI === 'true') {
    throw new Error(`kernel tests must run in CI, but ${tools.reason}`);
  }
}

export function withNetns<T>(body: (name: string) => T): T {
  const name = `${NETNS_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  try {
    return body(name);
  } finally {
    spawnSync('ip', ['netns', 'del', name]);
  }
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function runInNetns(name: string, command: readonly string[], input?: string): RunResult {
  const result = spawnSync('ip', ['netns', 'exec', name, ...command], { input, encoding: 'utf8' });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
