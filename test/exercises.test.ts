/**
 * `kproxy exercises`: every exercise accepts the answer its trace gives and refuses another, asked with --answer
 * and interactively (lines through the injected IO); answers follow the rules (a changed ruleset changes them).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { EXERCISES } from '../src/exercises/catalog.js';
import { kproxy, type CliRun } from './cli-helpers.js';
import { repoRoot } from './helpers.js';

interface ShownExercise {
  slug: string;
  answerKind: 'choice' | 'endpoints' | 'yesno' | 'address' | 'number';
  choices?: { key: string; text: string }[];
  expected: string;
}

async function solution(key: string, extra: string[] = []): Promise<ShownExercise> {
  const run = await kproxy(['exercises', 'show', key, '--solution', '--json', ...extra]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as ShownExercise;
}

/** An answer of the right form that differs from the expected one. */
function wrongAnswer(shown: ShownExercise): string {
  switch (shown.answerKind) {
    case 'choice':
      return (shown.choices ?? []).map((c) => c.key).find((k) => k !== shown.expected) as string;
    case 'endpoints':
      return shown.expected === 'none' ? '192.0.2.1:80' : shown.expected.split(', ').slice(1).join(', ') || 'none';
    case 'yesno':
      return shown.expected === 'yes' ? 'no' : 'yes';
    case 'address':
      return '192.0.2.1';
    case 'number':
      return String(Number(shown.expected) + 1);
  }
}

/** Runs the CLI with a scripted terminal: each readLine call gets the next line and its prompt is recorded. */
async function withTerminal(args: string[], lines: string[]): Promise<CliRun & { prompts: string[] }> {
  let stdout = '';
  let stderr = '';
  const prompts: string[] = [];
  const code = await runCli(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readStdin: () => {
      throw new Error('readStdin must not be used when readLine is available');
    },
    readLine: async (prompt) => {
      prompts.push(prompt);
      return lines.shift();
    },
  });
  return { code, stdout, stderr, prompts };
}

describe('kproxy exercises list', () => {
  it('lists every exercise with its number, name and ruleset', async () => {
    for (const args of [['exercises'], ['exercises', 'list']]) {
      const run = await kproxy(args);
      expect(run.code).toBe(0);
      EXERCISES.forEach((e, i) => expect(run.stdout).toMatch(new RegExp(`^\\s*${i + 1}  ${e.slug} .*rulesets/${e.ruleset}/`, 'm')));
    }
  });

  it('--json gives the same list for tools', async () => {
    const run = await kproxy(['exercises', 'list', '--json']);
    const list = JSON.parse(run.stdout) as { number: number; slug: string; ruleset: string }[];
    expect(list.map((e) => e.slug)).toEqual(EXERCISES.map((e) => e.slug));
    expect(list.map((e) => e.number)).toEqual(EXERCISES.map((_, i) => i + 1));
  });
});

describe('every exercise, answered with --answer', () => {
  EXERCISES.forEach((exercise, i) => {
    it(`${i + 1} ${exercise.slug}: the traced answer is accepted, another refused`, async () => {
      const shown = await solution(String(i + 1));
      expect(shown.slug).toBe(exercise.slug);
      const right = await kproxy(['exercises', 'run', exercise.slug, '--answer', shown.expected]);
      expect(right.stderr).toBe('');
      expect(right.code).toBe(0);
      expect(right.stdout).toContain(`Correct: ${shown.expected}.`);
      expect(right.stdout).toContain('What the trace shows (`kproxy trace rulesets/');
      const wrong = await kproxy(['exercises', 'run', String(i + 1), '--answer', wrongAnswer(shown)]);
      expect(wrong.code).toBe(1);
      expect(wrong.stdout).toContain(`the trace gives ${shown.expected}.`);
    });
  });

  it('the answers the traces give for the examples as they are', async () => {
    const expected: Record<string, string> = {
      'ping-clusterip-iptables': 'c',
      'ping-clusterip-nftables': 'd',
      'multiport-other-node': '33',
      'named-port': '10.244.1.5:8443, 10.244.1.6:8443, 10.244.2.7:8443',
      'affinity-sticky': '1',
      'affinity-timeout': 'b',
      'nodeport-endpoints': '10.244.1.5:8080, 10.244.1.6:8080, 10.244.2.7:8080',
      'nodeport-masquerade': 'yes',
      'etp-local-source': '203.0.113.9',
      'etp-local-endpoints': '10.244.1.5:8080, 10.244.1.6:8080',
      'loadbalancer-ip': '10.244.1.5:8080, 10.244.1.6:8080, 10.244.2.7:8080',
      'endpoints-without-selector': '11.11.11.11:80, 22.22.22.22:80',
      externalname: 'b',
      'ingress-backends': '10.244.1.5:8080, 10.244.1.6:8080, 10.244.2.7:8080',
      'ingress-unknown-host': 'b',
    };
    for (const exercise of EXERCISES) expect([exercise.slug, (await solution(exercise.slug)).expected]).toEqual([exercise.slug, expected[exercise.slug]]);
  });

  it('reads answers loosely: letter case, order of endpoints, spaces', async () => {
    expect((await kproxy(['exercises', 'run', 'ping-clusterip-iptables', '--answer', ' (C) '])).code).toBe(0);
    expect((await kproxy(['exercises', 'run', 'endpoints-without-selector', '--answer', '22.22.22.22:80 11.11.11.11:80'])).code).toBe(0);
    expect((await kproxy(['exercises', 'run', 'endpoints-without-selector', '--answer', '11.11.11.11:80'])).code).toBe(1);
    expect((await kproxy(['exercises', 'run', 'nodeport-masquerade', '--answer', 'Y'])).code).toBe(0);
  });

  it('--json prints the verdict, the answer and the trace', async () => {
    const run = await kproxy(['exercises', 'run', 'etp-local-source', '--answer', '203.0.113.9', '--json']);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as { answer: string; correct: boolean; expected: string; trace: { outcomes: { finalSource: string }[] } };
    expect(json).toMatchObject({ answer: '203.0.113.9', correct: true, expected: '203.0.113.9' });
    expect(json.trace.outcomes.map((o) => o.finalSource)).toEqual(['203.0.113.9', '203.0.113.9']);
  });

  it('show prints the setup and the question, and the answer only with --solution', async () => {
    const plain = await kproxy(['exercises', 'show', '1']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/rulesets\/kubia\/kubia\.yaml, lines \d+–\d+/);
    expect(plain.stdout).toMatch(/▸ +\d+ \|   clusterIP: 10\.96\.0\.10/);
    expect(plain.stdout).toContain('Question: What happens to the ICMP echo request?');
    expect(plain.stdout).not.toContain('Answer c');
    expect((await kproxy(['exercises', 'show', '1', '--solution'])).stdout).toContain('Answer c: Nothing translates it');
  });
});

describe('every exercise, answered interactively', () => {
  EXERCISES.forEach((exercise, i) => {
    it(`${i + 1} ${exercise.slug}: a line typed at the prompt is checked`, async () => {
      const shown = await solution(exercise.slug);
      const right = await withTerminal(['exercises', 'run', String(i + 1)], [shown.expected]);
      expect(right.code).toBe(0);
      expect(right.prompts).toEqual(['Your answer: ']);
      expect(right.stdout.indexOf('Question:')).toBeLessThan(right.stdout.indexOf('Correct: '));
      const wrong = await withTerminal(['exercises', 'run', exercise.slug], [wrongAnswer(shown)]);
      expect(wrong.code).toBe(1);
    });
  });

  it('asks again after an answer it cannot read, skips empty lines', async () => {
    const run = await withTerminal(['exercises', 'run', 'nodeport-masquerade'], ['', 'maybe', 'yes']);
    expect(run.code).toBe(0);
    expect(run.prompts).toHaveLength(3);
    expect(run.stdout).toContain('cannot read "maybe" as an answer: give yes or no');
  });

  it('without a terminal, reads the lines of standard input', async () => {
    const right = await kproxy(['exercises', 'run', '1'], 'c\n');
    expect(right.code).toBe(0);
    expect(right.stdout).toContain('Your answer: c\n');
    expect((await kproxy(['exercises', 'run', '1'], 'x\na\n')).code).toBe(1);
  });

  it('no answer at the end of input is a usage error', async () => {
    const run = await withTerminal(['exercises', 'run', '1'], []);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no answer given');
    expect((await kproxy(['exercises', 'run', '1'], '')).code).toBe(2);
  });
});

describe('usage errors', () => {
  it.each([
    [['exercises', 'run', '99', '--answer', 'a'], /no exercise "99"/],
    [['exercises', 'run', '0', '--answer', 'a'], /no exercise "0"/],
    [['exercises', 'show', 'no-such-exercise'], /no exercise "no-such-exercise"/],
    [['exercises', 'run', '1', '--answer', 'z'], /cannot read "z" as an answer: give one letter, a, b, c, d/],
    [['exercises', 'run', 'named-port', '--answer', '10.244.1.5'], /give ip:port, comma-separated, or none/],
    [['exercises', 'run', '1', '--json'], /--json needs --answer/],
    [['exercises', 'run'], /missing required argument/],
    [['exercises', 'run', '1', '--answer', 'c', '--rulesets', '/nonexistent-kproxy-rulesets'], /does not exist/],
  ])('%j exits 2', async (args, message) => {
    const run = await kproxy(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});

describe('answers come from tracing the rules', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'kproxy-exercises-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** A copy of one example under a fresh --rulesets folder, with `edit` applied to its manifest. */
  function variant(name: string, example: string, edit: (text: string) => string): string {
    const root = path.join(tmp, name);
    cpSync(path.join(repoRoot, 'rulesets', example), path.join(root, example), { recursive: true });
    const file = path.join(root, example, `${example}.yaml`);
    writeFileSync(file, edit(readFileSync(file, 'utf8')));
    return root;
  }

  it('a longer affinity timeout keeps the client on its pod after 4 hours', async () => {
    const root = variant('long-timeout', 'kubia', (text) =>
      text.replace('  sessionAffinity: ClientIP\n', '  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: 86400\n'),
    );
    const before = await solution('affinity-timeout');
    const after = await solution('affinity-timeout', ['--rulesets', root]);
    expect([before.expected, after.expected]).toEqual(['b', 'a']);
    expect((await kproxy(['exercises', 'run', 'affinity-timeout', '--answer', 'b', '--rulesets', root])).code).toBe(1);
  });

  it('without sessionAffinity the connections spread over the pods', async () => {
    const root = variant('no-affinity', 'kubia', (text) => text.replace('  sessionAffinity: ClientIP\n', ''));
    const after = await solution('affinity-sticky', ['--rulesets', root]);
    expect(Number(after.expected)).toBeGreaterThan(1);
  });

  it('externalTrafficPolicy: Cluster instead of Local: the pod sees a node address', async () => {
    const root = variant('etp-cluster', 'kubia-nodeport-local', (text) => text.replace('  externalTrafficPolicy: Local\n', '  externalTrafficPolicy: Cluster\n'));
    expect((await solution('etp-local-source', ['--rulesets', root])).expected).toBe('10.244.1.1 or 192.168.0.2');
    expect((await kproxy(['exercises', 'run', 'etp-local-source', '--answer', '203.0.113.9', '--rulesets', root])).code).toBe(1);
    const right = await kproxy(['exercises', 'run', 'etp-local-source', '--answer', '192.168.0.2', '--rulesets', root]);
    expect(right.code).toBe(0);
    expect(right.stdout).toContain('with these rules the Service does not keep client addresses');
    expect(right.stdout).toContain(`Ruleset ${path.join(root, 'kubia-nodeport-local')}/,`);
  });

  it('google-map as a ClusterIP Service without endpoints: the choice the trace fits changes', async () => {
    const root = variant('externalname-to-clusterip', 'google-map-externalname', (text) =>
      text.replace('  type: ExternalName\n  externalName: maps.googleapis.com\n', '  clusterIP: 10.96.0.21\n'),
    );
    expect((await solution('externalname', ['--rulesets', root])).expected).toBe('c');
  });

  it('an Ingress rule for the other host: the request for it reaches the pods, kubia.example.com gets a 404', async () => {
    const root = variant('ingress-other-host', 'kubia-ingress', (text) => text.replace('  - host: kubia.example.com\n', '  - host: other.example.com\n'));
    expect((await solution('ingress-unknown-host', ['--rulesets', root])).expected).toBe('c');
    expect((await solution('ingress-backends', ['--rulesets', root])).expected).toBe('none');
  });

  it('an exercise whose Service is gone says so (exit 1)', async () => {
    const root = variant('no-service', 'google-map', (text) => text.replace(/name: google-map\n  namespace: default\nspec:/, 'name: other-map\n  namespace: default\nspec:'));
    const run = await kproxy(['exercises', 'run', 'endpoints-without-selector', '--answer', 'none', '--rulesets', root]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^kproxy: exercise 12 \(endpoints-without-selector\) does not fit the rules of .*: the manifests have no Service default\/google-map$/m);
  });
});
