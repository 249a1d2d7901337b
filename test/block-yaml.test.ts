/**
 * The block-YAML fast path against its referee, the yaml package: wherever the fast reader accepts a text it
 * must give the same documents and the same position for every node; elsewhere it must give up.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { readBlockYaml } from '../src/model/block-yaml.js';
import { parseSource, parseYaml, type ParsedDocument, type Path } from '../src/model/source.js';
import { syntheticYaml } from '../bench/generate.js';
import { kubectlListYaml } from './helpers.js';

/** Every path below `value`, containers included. */
function pathsOf(value: unknown, base: Path = []): Path[] {
  const out: Path[] = [base];
  if (Array.isArray(value)) value.forEach((item, i) => out.push(...pathsOf(item, [...base, i])));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) out.push(...pathsOf(child, [...base, key]));
  }
  return out;
}

function where(doc: ParsedDocument, path: Path, key: boolean) {
  const { line, col } = doc.locate(path, { key });
  return `${line}:${col}`;
}

/** The fast path's reading equals the yaml package's: values, and positions of every node and key. */
function expectSameReading(text: string): void {
  const fast = parseSource({ file: 'f.yaml', text });
  const slow = parseYaml({ file: 'f.yaml', text });
  expect(fast.diagnostics).toEqual([]);
  expect(slow.diagnostics).toEqual([]);
  expect(fast.documents.map((d) => d.value)).toEqual(slow.documents.map((d) => d.value));
  fast.documents.forEach((doc, i) => {
    const referee = slow.documents[i] as ParsedDocument;
    for (const path of [...pathsOf(doc.value), ['missing'], [0, 'missing', 3]]) {
      expect(where(doc, path, false), `${JSON.stringify(path)} in\n${text}`).toBe(where(referee, path, false));
      if (path.length > 0) expect(where(doc, path, true), `key ${JSON.stringify(path)}`).toBe(where(referee, path, true));
    }
  });
}

describe('block-YAML fast path', () => {
  it('reads kubectl output as the yaml package does, positions included', () => {
    expect(readBlockYaml(kubectlListYaml)).toBeDefined();
    expectSameReading(kubectlListYaml);
  });

  it('reads hand-written manifests: comments, several documents, literal blocks, quoted scalars', () => {
    const text = [
      '# a leading comment',
      '---',
      'apiVersion: v1   # trailing comment',
      'kind: Pod',
      'metadata:',
      '  name: web-1',
      '',
      '  # comment between keys, at its own indentation',
      '  labels: {}',
      'spec:',
      '  containers:',
      '    - name: "app \\"quoted\\" \\u00e9"',
      "      image: 'it''s'",
      '      args: []',
      '      script: |-',
      '        line one',
      '',
      '          indented more',
      '        # not a comment',
      '      empty:',
      '      url: http://example.com/a#b',
      '      k:{"port":80,"protocol":"TCP"}:',
      '        .: {}',
      '--- # the next one',
      '- 1',
      '- true',
      '- ~',
      '- 10.0.0.1',
      '- |',
      '  block in a list',
      '- key: value',
      '  other: 007',
      '- -c',
      '- message: containers with unready status',
      '    [app] and a message long enough',
      '    - wrapped -- as kubectl wraps it, "quotes" and all',
      '    to be wrapped -- as kubectl wraps it',
      '  status: "False"',
      '',
    ].join('\n');
    expect(readBlockYaml(text)).toBeDefined();
    expectSameReading(text);
  });

  it('reads long strings wrapped over several lines, as the YAML writer of kubectl wraps them', () => {
    const message = 'containers with unready status: [app] because the readiness probe failed three times';
    const plain = 'the readiness probe of container app failed three times in a row';
    for (const defaultStringType of ['PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE'] as const) {
      const value = { status: { conditions: [{ message, reason: plain, type: 'Ready' }] } };
      const text = stringify(value, { lineWidth: 30, defaultStringType, defaultKeyType: 'PLAIN' });
      expect(text.split('\n').length).toBeGreaterThan(8);
      expect(readBlockYaml(text)?.[0]?.value, text).toEqual(value);
      expectSameReading(text);
    }
    const written = 'a: "one \\\n  two\n\n  three \\ \n  four"\nb: \'x\n  \'\'y\'\'\n\n\n  z\'\n';
    expect(readBlockYaml(written)).toBeDefined();
    expectSameReading(written);
  });

  it('reads tabs inside | blocks (scripts and configs) as content', () => {
    const text = 'data:\n  script: |\n    if true; then\n    \techo "tab"\n    fi\n  other: value\n';
    expect(readBlockYaml(text)?.[0]?.value).toEqual({ data: { script: 'if true; then\n\techo "tab"\nfi\n', other: 'value' } });
    expectSameReading(text);
  });

  it('reads the bench clusters', () => {
    const text = syntheticYaml({ services: 20, endpointsPerService: 3 });
    expect(readBlockYaml(text)).toBeDefined();
    expectSameReading(text);
  });

  it('gives up on everything outside its subset (the yaml package then reads it)', () => {
    const outside = [
      'a: &x 1\nb: *x\n', // anchors, aliases
      'a: {b: 1}\n', // flow mapping with content
      'a: [1, 2]\n',
      'a: !!str 1\n', // tag
      'a: long\n\n  continued\n', // a plain scalar over an empty line
      'a: long # comment\n  continued\n',
      'a: "open\n',
      'a: "open\nb: 1"\n', // a continuation line not indented deeper
      'a: >\n  folded\n',
      'a: |+\n  keep\n',
      'a: |2\n   indent\n',
      'a:\tb\n', // tabs outside | blocks
      'a:\n\tb: 1\n',
      'a: "x\ty"\n',
      'a: |\n  x\n\tb: 1\n',
      'a: 1\r\nb: 2\r\n', // CR
      'a: 1\na: 2\n', // duplicate key
      '<<: {a: 1}\n',
      '"quoted key": 1\n',
      '80: http\n', // non-string key
      'a: 1.5\n',
      'a: -1\n',
      'a: 0x4000\n',
      'a: .inf\n',
      'a: 1e3\n',
      'a: b: c\n',
      '%YAML 1.2\n---\na: 1\n',
      'a: 1\n...\n',
      'just a scalar\n',
      '- a\n-\n- b\n', // empty item
      'a: "\\x41"\n', // escape outside the subset
      'a: |\n\nb: 1\n', // empty literal
    ];
    for (const text of outside) expect(readBlockYaml(text), text).toBeUndefined();
  });

  it('gives up on broken YAML, so the errors are the yaml package\'s', () => {
    for (const text of ['a: 1\n b: 2\n', 'a:\n  - x\n  y: 1\n', '- a\nb: 1\n', 'a: 1\n- x\n']) {
      expect(readBlockYaml(text), text).toBeUndefined();
      expect(parseSource({ file: 'f.yaml', text }).diagnostics.map((d) => d.code), text).toEqual(['E_YAML_SYNTAX']);
    }
  });

  it('agrees with the yaml package on generated documents wherever it reads them', () => {
    const word = fc.stringMatching(/^[a-z][a-z0-9./-]{0,12}$/);
    // Mostly what manifests hold, with a share of what the fast path must refuse or quote correctly.
    const scalar = fc.oneof(
      { arbitrary: fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9 ._:/=-]{0,15}$/), weight: 6 },
      { arbitrary: fc.integer({ min: 0, max: 70000 }), weight: 3 },
      { arbitrary: fc.boolean(), weight: 1 },
      { arbitrary: fc.constant(null), weight: 1 },
      {
        arbitrary: fc.constantFrom('80', '007', '1.5', '-1', '+5', '.5', '1e3', '0x1F', '0o17', 'true', 'False', 'yes', 'null',
          '~', '', '10.96.0.10', 'fd00::1', 'a: b', 'a #b', 'a#b', "it's", 'say "hi"', 'back\\slash', 'multi\nline\n',
          'trail\n', 'é ✓', '- x', '#x', '{}', '[]', '@x', 'x:', '-x', ':x', '?x', '-',
          'a long message with several words that a narrow line width wraps over lines'),
        weight: 3,
      },
      { arbitrary: fc.string({ maxLength: 8 }), weight: 1 },
      { arbitrary: fc.integer({ min: -5, max: -1 }), weight: 1 },
    );
    const value = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        scalar,
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(word, tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    const root = fc.oneof(fc.dictionary(word, value, { minKeys: 1, maxKeys: 5 }), fc.array(value, { minLength: 1, maxLength: 4 }));
    const style = fc.record({
      lineWidth: fc.constantFrom(0, 20, 40),
      indentSeq: fc.boolean(),
      indent: fc.constantFrom(2, 4),
      defaultStringType: fc.constantFrom('PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE') as fc.Arbitrary<'PLAIN' | 'QUOTE_DOUBLE' | 'QUOTE_SINGLE'>,
      defaultKeyType: fc.constantFrom(null, 'PLAIN') as fc.Arbitrary<null | 'PLAIN'>,
    });
    let read = 0;
    let runs = 0;
    fc.assert(
      fc.property(fc.array(root, { minLength: 1, maxLength: 2 }), style, (docs, options) => {
        runs++;
        const text = docs.map((doc) => stringify(doc, options)).join('---\n');
        if (readBlockYaml(text) === undefined) return;
        read++;
        expectSameReading(text);
      }),
      { numRuns: 600 },
    );
    // The property must not hold only because the fast path gave up.
    expect(read).toBeGreaterThan(runs / 5);
  });
});
