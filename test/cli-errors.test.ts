/** Errors through the command line: every problem of every document, with codes and positions, exit 1. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kproxy } from './cli-helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'kproxy-errors-'));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** `file:line:col: severity[CODE]` of each reported line, file reduced to its base name. */
function codes(stderr: string): string[] {
  return stderr
    .trim()
    .split('\n')
    .map((line) => /^(.*?):(\d+):(\d+): (\w+)\[(\w+)\]/.exec(line))
    .map((m) => (m ? `${path.basename(m[1] as string)}:${m[2]}:${m[3]} ${m[4]}[${m[5]}]` : 'unparsed'));
}

describe('compile errors', () => {
  it('reports every error of an object and of the other documents, with positions', async () => {
    const file = write(
      'bad.yaml',
      [
        'apiVersion: v1',
        'kind: Service',
        'metadata:',
        '  name: "bad name"',
        'spec:',
        '  clusterIP: 10.96.0.300',
        '  externalIPs: [1.2.3]',
        '  ports:',
        '  - port: 70000',
        '    protocol: ICMP',
        '---',
        'foo: [',
        '',
      ].join('\n'),
    );
    const run = await kproxy(['compile', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(codes(run.stderr)).toEqual([
      'bad.yaml:4:9 error[E_NAME]',
      'bad.yaml:6:14 error[E_INVALID_IP]',
      'bad.yaml:7:17 error[E_INVALID_IP]',
      'bad.yaml:9:11 error[E_PORT_RANGE]',
      'bad.yaml:10:15 error[E_PROTOCOL]',
      'bad.yaml:13:1 error[E_YAML_SYNTAX]',
    ]);
  });

  it('warns, with a position, about a selector that matches no Pod, and still compiles', async () => {
    const file = write(
      'lonely.yaml',
      ['apiVersion: v1', 'kind: Service', 'metadata: {name: lonely}', 'spec:', '  clusterIP: 10.96.0.9', '  selector: {app: nobody}', '  ports: [{port: 80}]', ''].join('\n'),
    );
    const run = await kproxy(['compile', '--format', 'restore', file]);
    expect(run.code).toBe(0);
    expect(codes(run.stderr)).toEqual(['lonely.yaml:6:13 warning[W_SELECTOR_NO_MATCH]']);
    expect(run.stdout).toContain('"default/lonely has no endpoints"');
  });

  it('exits 2 on usage errors', async () => {
    expect((await kproxy(['compile'])).code).toBe(2);
    expect((await kproxy(['compile', path.join(dir, 'missing.yaml')])).code).toBe(2);
    expect((await kproxy(['compile', '--mode', 'nftables', '--format', 'save', 'x'])).code).toBe(2);
    expect((await kproxy(['compile', '--format', 'save', '--canonical', 'x'])).code).toBe(2);
  });
});
