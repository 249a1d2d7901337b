/**
 * The report page in a real browser: Debian's headless Chromium loads the file, offline, and must show the chain
 * graph. `--dump-dom` gives the DOM Chromium built (the SVG parsed as SVG, with the expected chains and edges);
 * `--screenshot` gives the pixels, where the boxes' fill colours and the blue random-pick edges must appear.
 * Without chromium the test is skipped with the reason printed; in CI (`CI=true`) it must run.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { kproxy } from './cli-helpers.js';
import { repoRoot } from './helpers.js';
import { EDGE_COLORS, KIND_COLORS } from '../src/render/chain-graph.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI === 'true') throw new Error(`the report test must run in CI, but ${CHROMIUM} is not installed (.ci/run installs it)`);
if (!available) console.warn(`report-chromium: skipped, ${CHROMIUM} is not installed (apt-get install chromium)`);

interface BrowserRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs chromium once with a fresh profile, offline as far as flags allow. It runs in its own process group, which
 * is killed afterwards whatever happened, so no renderer or zygote outlives the test.
 */
async function chromium(dir: string, args: readonly string[]): Promise<BrowserRun> {
  const profile = mkdtempSync(path.join(dir, 'profile-'));
  const flags = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
    `--user-data-dir=${profile}`,
  ];
  const child = spawn(CHROMIUM, [...flags, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`chromium did not finish in 60 s: ${stderr.slice(-2000)}`)), 60_000);
      child.on('error', reject);
      child.on('close', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    return { code, stdout, stderr };
  } finally {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // The group is already gone: chromium exited with all its children.
    }
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Decodes an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes) into rows of pixels. */
function decodePng(png: Buffer): { width: number; height: number; pixel(x: number, y: number): [number, number, number] } {
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const data: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('ascii', offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      expect({ depth: body[8], interlace: body[12] }).toEqual({ depth: 8, interlace: 0 });
      channels = body[9] === 6 ? 4 : body[9] === 2 ? 3 : 0;
      expect(channels, `PNG colour type ${body[9]}`).toBeGreaterThan(0);
    } else if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const rows = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] as number;
    for (let i = 0; i < stride; i++) {
      const value = raw[y * (stride + 1) + 1 + i] as number;
      const left = i >= channels ? (rows[y * stride + i - channels] as number) : 0;
      const up = y > 0 ? (rows[(y - 1) * stride + i] as number) : 0;
      const upLeft = y > 0 && i >= channels ? (rows[(y - 1) * stride + i - channels] as number) : 0;
      let predicted = 0;
      if (filter === 1) predicted = left;
      else if (filter === 2) predicted = up;
      else if (filter === 3) predicted = (left + up) >> 1;
      else if (filter === 4) {
        const p = left + up - upLeft;
        const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
        predicted = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      }
      rows[y * stride + i] = (value + predicted) & 0xff;
    }
  }
  return {
    width,
    height,
    pixel: (x, y) => {
      const at = y * stride + x * channels;
      return [rows[at] as number, rows[at + 1] as number, rows[at + 2] as number];
    },
  };
}

function countColour(image: ReturnType<typeof decodePng>, hex: string): number {
  const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let count = 0;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const [r, g, b] = image.pixel(x, y);
      if (r === want[0] && g === want[1] && b === want[2]) count++;
    }
  }
  return count;
}

describe.skipIf(!available)('report in headless Chromium', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kproxy-chromium-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const page = path.join(dir, 'kubia.html');

  it('Chromium builds the SVG graph: KUBE-SERVICES, the Service chain, three endpoints, three random picks of 33.3%', async () => {
    const made = await kproxy(['report', path.join(repoRoot, 'rulesets/kubia/'), '--html', page]);
    expect(made.code).toBe(0);
    const run = await chromium(dir, ['--dump-dom', `file://${page}`]);
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    const dom = run.stdout;
    expect(dom).toContain('<h1>kproxy report</h1>');
    const nat = /<svg class="chain-graph" data-table="nat"[\s\S]*?<\/svg>/.exec(dom)?.[0];
    expect(nat, 'the nat graph is in the DOM').toBeDefined();
    const nodes = [...(nat as string).matchAll(/<g class="node kind-(\w+)" data-id="([^"]+)">/g)].map((m) => [m[1], m[2]]);
    expect(nodes).toContainEqual(['dispatch', 'nat:KUBE-SERVICES']);
    expect(nodes).toContainEqual(['service', 'nat:KUBE-SVC-XCCRWSFD2BRL7CRI']);
    expect(nodes.filter(([kind]) => kind === 'endpoint')).toHaveLength(3);
    const picks = [...(nat as string).matchAll(/<g class="edge kind-random" data-from="nat:KUBE-SVC-XCCRWSFD2BRL7CRI" data-to="nat:KUBE-SEP-\w+" data-probability="[\d.]+">[\s\S]*?<text [^>]*>([^<]*)<\/text>/g)];
    expect(picks.map((m) => m[1])).toEqual(['33.3%', '33.3%', '33.3%']);
    // Every edge's ends are boxes of the same drawing.
    const ids = new Set(nodes.map(([, id]) => id));
    for (const [, from, to] of (nat as string).matchAll(/<g class="edge kind-\w+" data-from="([^"]+)" data-to="([^"]+)"/g)) {
      expect(ids.has(from as string) && ids.has(to as string), `${from} → ${to}`).toBe(true);
    }
  }, 90_000);

  it('the screenshot shows the boxes and the random-pick edges in their colours', async () => {
    if (!existsSync(page)) writeFileSync(page, (await kproxy(['report', path.join(repoRoot, 'rulesets/kubia/'), '--html', '-'])).stdout);
    const shot = path.join(dir, 'kubia.png');
    const run = await chromium(dir, [`--screenshot=${shot}`, '--window-size=1600,1100', `file://${page}`]);
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    const image = decodePng(readFileSync(shot));
    expect([image.width, image.height]).toEqual([1600, 1100]);
    // The Service box (about 150 × 85 px) and the three endpoint boxes are filled with their kind's colour;
    // text and borders take some of it, most stays.
    expect(countColour(image, KIND_COLORS.service)).toBeGreaterThan(5000);
    expect(countColour(image, KIND_COLORS.endpoint)).toBeGreaterThan(3 * 3000);
    expect(countColour(image, KIND_COLORS.hook)).toBeGreaterThan(3000);
    expect(countColour(image, EDGE_COLORS.random)).toBeGreaterThan(300);
  }, 90_000);
});
