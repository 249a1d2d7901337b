/**
 * `-m statistic` values the kernel refuses at load time (xt_statistic): a `--probability` that is not a decimal
 * number in [0, 1], an `--every` below 1, a `--packet` not below `--every`. The parser reports them at the
 * value; before, a NaN reached the renderer's quantization and crashed `diff` with a RangeError.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Rule } from '../src/ir/iptables.js';
import { parseIptables } from '../src/parse/iptables.js';
import { savedProbability, saveRuleLines } from '../src/render/save.js';
import { kproxy } from './cli-helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'kproxy-probability-'));

/** A nat table whose OUTPUT chain has the one rule `-A OUTPUT -m statistic <match> -j ACCEPT` (line 3). */
function dump(match: string): string {
  return `*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -m statistic ${match} -j ACCEPT\nCOMMIT\n`;
}

/** `code@line:col message` of every diagnostic. */
function diagnostics(text: string): string[] {
  return parseIptables(text, 'x.iptables').diagnostics.map((d) => `${d.code}@${d.line}:${d.col} ${d.message}`);
}

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

// `-A OUTPUT -m statistic --mode random --probability ` is 51 characters: the value starts at column 52.
const RANDOM = '--mode random --probability';
const expectedDecimal = '(expected a decimal number from 0 to 1)';

describe('statistic --probability', () => {
  for (const value of ['NaN', 'abc', 'Infinity', '-Infinity', '1e999', '1.5', '-1', '1.0000001', '0x1', '', '0.5x']) {
    it(`refuses ${JSON.stringify(value)} at the value`, () => {
      const written = value === '' ? '""' : value;
      expect(diagnostics(dump(`${RANDOM} ${written}`))).toEqual([
        `E_IPT_SYNTAX@3:52 bad --probability "${value}" ${expectedDecimal}`,
      ]);
    });
  }

  for (const value of ['0', '1', '0.5', '0.33333333349', '1.0', '.25', '5e-1', '+0.5', '-0', '1e-400']) {
    it(`accepts ${value}`, () => expect(diagnostics(dump(`${RANDOM} ${value}`))).toEqual([]));
  }

  it('refuses a negated bad value too, and finds it behind counters and a quoted value', () => {
    expect(diagnostics(dump(`--mode random ! --probability 2`))).toEqual([
      `E_IPT_SYNTAX@3:54 bad --probability "2" ${expectedDecimal}`,
    ]);
    const text = `*nat\n:OUTPUT ACCEPT [0:0]\n[3:180] -A OUTPUT -m statistic ${RANDOM} "nan" -j ACCEPT\nCOMMIT\n`;
    expect(diagnostics(text)).toEqual([`E_IPT_SYNTAX@3:60 bad --probability "nan" ${expectedDecimal}`]);
  });

  it('reports every bad line, and keeps the good rules', () => {
    const text = [
      '*nat',
      ':OUTPUT ACCEPT [0:0]',
      `-A OUTPUT -m statistic ${RANDOM} 0.25 -j ACCEPT`,
      `-A OUTPUT -m statistic ${RANDOM} NaN -j ACCEPT`,
      `-A OUTPUT -p tcp -m statistic ${RANDOM} 7 -j ACCEPT`,
      'COMMIT',
      '',
    ].join('\n');
    const { ruleset, diagnostics: found } = parseIptables(text, 'x.iptables');
    expect(found.map((d) => `${d.code}@${d.line}:${d.col}`)).toEqual(['E_IPT_SYNTAX@4:52', 'E_IPT_SYNTAX@5:59']);
    expect(ruleset.tables[0]?.rules.length).toBe(1);
  });

  it('leaves a --probability of another module alone', () => {
    const text = '*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -m foo --probability NaN -j ACCEPT\nCOMMIT\n';
    expect(diagnostics(text)).toEqual([]);
  });
});

describe('statistic --every / --packet', () => {
  // `-A OUTPUT -m statistic --mode nth ` is 34 characters.
  const cases: Array<[string, string[]]> = [
    ['--every 3 --packet 2', []],
    ['--every 1 --packet 0', []],
    ['--every 3', []],
    ['--every 4294967295 --packet 4294967294', []],
    ['--every 0', ['E_IPT_SYNTAX@3:43 bad --every "0" (expected an integer from 1 to 4294967295)']],
    ['--every -2', ['E_IPT_SYNTAX@3:43 bad --every "-2" (expected an integer from 1 to 4294967295)']],
    ['--every 2.5', ['E_IPT_SYNTAX@3:43 bad --every "2.5" (expected an integer from 1 to 4294967295)']],
    ['--every NaN', ['E_IPT_SYNTAX@3:43 bad --every "NaN" (expected an integer from 1 to 4294967295)']],
    ['--every 4294967296', ['E_IPT_SYNTAX@3:43 bad --every "4294967296" (expected an integer from 1 to 4294967295)']],
    ['--every 3 --packet x', ['E_IPT_SYNTAX@3:54 bad --packet "x" (expected an integer from 0 to --every minus 1)']],
    ['--every 3 --packet 3', ['E_IPT_SYNTAX@3:54 bad --packet "3" (expected an integer from 0 to 2, below --every 3)']],
    ['--packet 3 --every 3', ['E_IPT_SYNTAX@3:54 bad --every "3" (expected an integer above --packet 3)']],
    ['--packet -1 --every 3', ['E_IPT_SYNTAX@3:44 bad --packet "-1" (expected an integer from 0 to --every minus 1)']],
  ];
  for (const [match, expected] of cases) {
    it(match, () => expect(diagnostics(dump(`--mode nth ${match}`))).toEqual(expected));
  }

  it('pairs --every and --packet within one statistic match only', () => {
    const text = dump('--mode nth --every 2 -m statistic --mode nth --packet 5 --every 9');
    expect(diagnostics(text)).toEqual([]);
  });
});

describe('savedProbability on a value that bypassed the parser', () => {
  it('never throws', () => {
    for (const p of [NaN, Infinity, -Infinity, 1.5, -1, 1e300]) expect(() => savedProbability(p)).not.toThrow();
    expect(savedProbability(NaN)).toBe('NaN');
    expect(savedProbability(0.5)).toBe('0.50000000000');
  });

  it('prints an unreadable --probability of a rule as written', () => {
    const option = (name: string, value: string) => ({ kind: 'option' as const, module: 'statistic', name, negated: false, args: [value] });
    for (const value of ['NaN', 'abc', 'Infinity', '1e999', '1.5']) {
      const rule: Rule = {
        chain: 'OUTPUT',
        parts: [{ kind: 'module', name: 'statistic' }, option('mode', 'random'), option('probability', value)],
        target: { name: 'ACCEPT', goto: false, options: [] },
      };
      expect(saveRuleLines(rule, 4)).toEqual([`-A OUTPUT -m statistic --mode random --probability ${value} -j ACCEPT`]);
    }
  });
});

describe('the command line on a dump with a bad --probability', () => {
  const bad = write('prob-nan.iptables', dump(`${RANDOM} NaN`));
  const good = write('prob-half.iptables', dump(`${RANDOM} 0.5`));
  const message = `${bad}:3:52: error[E_IPT_SYNTAX]: bad --probability "NaN" ${expectedDecimal}`;
  const noStack = (stderr: string) => {
    expect(stderr).not.toMatch(/RangeError|\n\s+at /);
  };

  it('diff reports it and exits 2 (input error; 1 would mean "changed")', async () => {
    for (const args of [
      ['diff', '--old-rules', bad, '--new-rules', bad],
      ['diff', '--old-rules', good, '--new-rules', bad],
    ]) {
      const run = await kproxy(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(message);
      noStack(run.stderr);
    }
  });

  it('trace --rules reports it and exits 1', async () => {
    const run = await kproxy(['trace', '--rules', bad, '--dst', '10.0.0.1', '--dport', '80', '--from', 'node']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`${message}\n`);
    noStack(run.stderr);
  });

  it('check, lenient inside a table as kube-proxy\'s check is, does not read option values', async () => {
    const run = await kproxy(['check', bad]);
    expect(run.code).toBe(0);
    noStack(run.stderr);
  });

  it('a good value still diffs as identical', async () => {
    const run = await kproxy(['diff', '--old-rules', good, '--new-rules', good]);
    expect(run.code).toBe(0);
  });
});
