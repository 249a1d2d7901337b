import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root (test/ lives directly under it). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** `../shared/conformance/<relative>`: CI clones the repo with shared/ beside it. */
export function conformancePath(relative = ''): string {
  return path.join(repoRoot, '..', 'shared', 'conformance', relative);
}
