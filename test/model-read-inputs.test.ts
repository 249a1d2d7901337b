import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readInputs } from '../src/cli/read-inputs.js';
import { loadManifests } from '../src/model/load.js';

describe('readInputs', () => {
  let dir = '';
  const noStdin = () => {
    throw new Error('stdin read');
  };
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kproxy-inputs-'));
    const write = (rel: string, text: string | Buffer) => {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), text);
    };
    write('app/b.yaml', 'kind: B\n');
    write('app/a.yml', 'kind: A\n');
    write('app/sub/c.json', '{"kind": "C"}');
    write('app/sub/node.yaml', 'nodeName: deep\n');
    write('app/node.yaml', 'nodeName: n1\n');
    write('app/README.md', '# not a manifest\n');
    write('app/.hidden/d.yaml', 'kind: D\n');
    write('bad.yaml', Buffer.from([0x6b, 0x3a, 0x20, 0xff, 0xfe, 0x0a]));
    write('text/notes.yaml', '# 服务 Service — café\nkind: N\n');
    write('text/bom.yaml', '\ufeffkind: M\n');
    write('text/ascii.json', '{"kind": "J"}');
    write('other/node.yaml', 'nodeName: n2\n');
    write('empty/notes.txt', 'x');
    symlinkSync(path.join(dir, 'app'), path.join(dir, 'app', 'sub', 'loop'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('folders are walked recursively in sorted order; node.yaml at the top is the node config', () => {
    const r = readInputs([path.join(dir, 'app')], noStdin);
    expect(r.usageErrors).toEqual([]);
    expect(r.sources.map((s) => path.relative(dir, s.file))).toEqual(['app/a.yml', 'app/b.yaml', 'app/sub/c.json']);
    expect(r.nodeConfigFile).toBe(path.join(dir, 'app', 'node.yaml'));
  });

  test('files are taken as given, even node.yaml; - reads stdin once', () => {
    const r = readInputs([path.join(dir, 'other', 'node.yaml'), '-'], () => '\ufeffkind: S\n');
    expect(r.usageErrors).toEqual([]);
    expect(r.sources.map((s) => [path.basename(s.file), s.text])).toEqual([
      ['node.yaml', 'nodeName: n2\n'],
      ['<stdin>', 'kind: S\n'],
    ]);
    expect(r.nodeConfigFile).toBeUndefined();
    expect(readInputs(['-', '-'], () => '').usageErrors).toHaveLength(1);
  });

  test('missing paths, empty folders, two node.yaml files and no arguments are usage errors', () => {
    expect(readInputs([path.join(dir, 'nope.yaml')], noStdin).usageErrors).toEqual([`${path.join(dir, 'nope.yaml')}: no such file or folder`]);
    expect(readInputs([path.join(dir, 'empty')], noStdin).usageErrors).toHaveLength(1);
    expect(readInputs([path.join(dir, 'app'), path.join(dir, 'other')], noStdin).usageErrors).toHaveLength(1);
    expect(readInputs([], noStdin).usageErrors).toHaveLength(1);
  });

  test('UTF-8 text, a byte-order mark and plain ASCII all read as the text they hold', () => {
    const r = readInputs([path.join(dir, 'text')], noStdin);
    expect(r.sources.map((s) => [path.basename(s.file), s.text])).toEqual([
      ['ascii.json', '{"kind": "J"}'],
      ['bom.yaml', 'kind: M\n'],
      ['notes.yaml', '# 服务 Service — café\nkind: N\n'],
    ]);
  });

  test('invalid UTF-8 becomes E_BINARY at the bad byte', () => {
    const r = readInputs([path.join(dir, 'bad.yaml')], noStdin);
    const loaded = loadManifests(r.sources);
    expect(loaded.diagnostics.map((d) => `${d.code}@${d.line}:${d.col}`)).toEqual(['E_BINARY@1:4']);
  });
});
