/** The node flags reach the node settings of every command that takes them (commander renames them). */
import { describe, expect, it } from 'vitest';
import { kproxy } from './cli-helpers.js';

const manifest = 'rulesets/kubia-nodeport/kubia-nodeport.yaml';

describe('node flags', () => {
  it('--cluster-cidr feeds the local-traffic detector', async () => {
    const without = await kproxy(['compile', '--node-name', 'node-1', '--format', 'restore', manifest]);
    const withCIDR = await kproxy(['compile', '--node-name', 'node-1', '--cluster-cidr', '10.244.0.0/16', '--format', 'restore', manifest]);
    expect(without.stdout).not.toContain('! -s 10.244.0.0/16 -j KUBE-MARK-MASQ');
    expect(withCIDR.stdout).toContain('! -s 10.244.0.0/16 -j KUBE-MARK-MASQ');
  });

  it('--node-ip and --nodeport-addresses choose the NodePort destinations', async () => {
    const run = await kproxy([
      'compile', '--node-name', 'node-1', '--node-ip', '192.168.0.2', '--nodeport-addresses', '192.168.0.0/24', '--format', 'restore', manifest,
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^-A KUBE-SERVICES .* -d 192\.168\.0\.2 -j KUBE-NODEPORTS$/m);
    expect(run.stdout).not.toContain('--dst-type LOCAL -j KUBE-NODEPORTS');
  });

  it('a bad value is an error naming the flag', async () => {
    const run = await kproxy(['compile', '--node-ip', '192.168.0.300', manifest]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--node-ip');
    const cidr = await kproxy(['compile', '--cluster-cidr', '10.244.0.0/99', manifest]);
    expect(cidr.code).toBe(1);
    expect(cidr.stderr).toContain('--cluster-cidr');
  });

  it('trace takes them too', async () => {
    const run = await kproxy(['trace', '--node-name', 'node-1', '--node-ip', '192.168.0.2', '--src', '203.0.113.9', '--dst', '192.168.0.2', '--dport', '30123', manifest]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('source becomes 192.168.0.2');
  });
});

describe('the installed command', () => {
  it('stops quietly when its reader closes the pipe early (kproxy … | head)', async () => {
    const { spawnSync } = await import('node:child_process');
    const { existsSync, mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    // Built by `npm test` (tsc) before the tests run.
    expect(existsSync('dist/src/cli/main.js')).toBe(true);
    // Output far larger than a pipe buffer, so the writer is still writing when the reader is gone.
    const items = Array.from({ length: 3000 }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `svc-${i}`, namespace: 'default' },
      spec: { clusterIP: `10.96.${i >> 8}.${i & 255}`, ports: [{ port: 80 }] },
    }));
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'kproxy-pipe-')), 'big.json');
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    const result = spawnSync('bash', ['-c', `node dist/src/cli/main.js compile --node-name n1 --format json ${file} | head -c 10 >/dev/null; exit \${PIPESTATUS[0]}`], {
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
