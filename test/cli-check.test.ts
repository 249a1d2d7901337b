/** `kproxy check` through the command line: kube-proxy's consistency check of a payload. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kproxy } from './cli-helpers.js';
import { conformancePath } from './helpers.js';

const cases = readdirSync(conformancePath('iptables/consistency-check'));

describe('kproxy check', () => {
  it('has the conformance cases to run', () => {
    expect(cases.length).toBeGreaterThan(2);
  });

  for (const name of cases) {
    it(`${name}: exit code and message as the conformance case expects`, async () => {
      const dir = conformancePath(`iptables/consistency-check/${name}`);
      const expected = readFileSync(path.join(dir, 'expected-error.txt'), 'utf8').trim();
      const run = await kproxy(['check', path.join(dir, 'input.iptables')]);
      if (expected === '') {
        expect(run.code).toBe(0);
        expect(run.stdout).toContain('consistent');
      } else {
        expect(run.code).toBe(1);
        expect(run.stderr).toContain(`error[E_CHAIN_JUMPS]: ${expected}`);
      }
    });
  }

  it('reads standard input', async () => {
    const run = await kproxy(['check', '-'], '*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n');
    expect(run).toMatchObject({ code: 0, stdout: '<stdin>: consistent\n' });
  });

  it('refuses text with no table at all, pointing at its first line', async () => {
    const run = await kproxy(['check', '-'], '# a note\n\n  not a payload\n');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('<stdin>:3:3: error[E_IPT_NO_TABLE]: no *table line: not an iptables-restore payload or iptables-save dump\n');
  });

  it('a file it cannot read is a usage error', async () => {
    expect((await kproxy(['check', '/nonexistent/payload'])).code).toBe(2);
  });
});
