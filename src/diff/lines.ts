/**
 * Order-aware comparison of two sequences of lines (rules of one chain), in the shape of a unified diff:
 * Myers' shortest edit script, grouped into hunks with a few lines of context.
 *
 * Lines are compared by key (a rule in a normal form, so that the same rule written in two spellings is equal);
 * what is printed is chosen by the caller from the indexes.
 */

export type EditOp = 'equal' | 'delete' | 'insert';

export interface Edit {
  op: EditOp;
  /** Index in the old sequence (equal, delete) or -1. */
  oldIndex: number;
  /** Index in the new sequence (equal, insert) or -1. */
  newIndex: number;
}

export interface HunkLine {
  op: ' ' | '-' | '+';
  text: string;
}

/** `@@ -oldStart,oldLines +newStart,newLines @@`, 1-based starts as in `diff -u`. */
export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: HunkLine[];
}

/**
 * Above this many differences (after the common head and tail are set aside) the middle is reported as removed
 * and re-added in full: Myers keeps one frontier per step, and a chain rewritten from end to end is read as such.
 */
const MAX_EDIT_DISTANCE = 2000;

/** The shortest edit script turning `before` into `after` (Myers 1986), common head and tail first. */
export function diffKeys(before: readonly string[], after: readonly string[]): Edit[] {
  let head = 0;
  while (head < before.length && head < after.length && before[head] === after[head]) head++;
  let tail = 0;
  while (tail < before.length - head && tail < after.length - head && before[before.length - 1 - tail] === after[after.length - 1 - tail]) tail++;
  const edits: Edit[] = [];
  for (let i = 0; i < head; i++) edits.push({ op: 'equal', oldIndex: i, newIndex: i });
  edits.push(...middle(before, after, head, before.length - tail, after.length - tail));
  for (let k = tail; k > 0; k--) edits.push({ op: 'equal', oldIndex: before.length - k, newIndex: after.length - k });
  return edits;
}

/** Myers on before[from..oldEnd) × after[from..newEnd), with the frontier of every step kept for the walk back. */
function middle(before: readonly string[], after: readonly string[], from: number, oldEnd: number, newEnd: number): Edit[] {
  const n = oldEnd - from;
  const m = newEnd - from;
  const replaceAll = (): Edit[] => [
    ...range(n).map((i) => ({ op: 'delete' as const, oldIndex: from + i, newIndex: -1 })),
    ...range(m).map((j) => ({ op: 'insert' as const, oldIndex: -1, newIndex: from + j })),
  ];
  if (n === 0 || m === 0) return replaceAll();
  const max = Math.min(n + m, MAX_EDIT_DISTANCE);
  const offset = max + 1;
  const frontier = new Int32Array(2 * max + 3);
  const history: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (frontier[offset + k - 1] as number) < (frontier[offset + k + 1] as number));
      let x = down ? (frontier[offset + k + 1] as number) : (frontier[offset + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && before[from + x] === after[from + y]) {
        x++;
        y++;
      }
      frontier[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    history.push(frontier.slice());
  }
  if (found < 0) return replaceAll();
  // Walk back from (n, m): at each step, the snake that reached diagonal k came from k-1 (a deletion) or k+1 (an insertion).
  const reversed: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const previous = history[d - 1] as Int32Array;
    const k = x - y;
    const down = k === -d || (k !== d && (previous[offset + k - 1] as number) < (previous[offset + k + 1] as number));
    const prevK = down ? k + 1 : k - 1;
    const prevX = previous[offset + prevK] as number;
    const prevY = prevX - prevK;
    while (x > (down ? prevX : prevX + 1) && y > (down ? prevY + 1 : prevY)) {
      x--;
      y--;
      reversed.push({ op: 'equal', oldIndex: from + x, newIndex: from + y });
    }
    if (down) reversed.push({ op: 'insert', oldIndex: -1, newIndex: from + --y });
    else reversed.push({ op: 'delete', oldIndex: from + --x, newIndex: -1 });
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    reversed.push({ op: 'equal', oldIndex: from + x, newIndex: from + y });
  }
  return reversed.reverse();
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

/**
 * Hunks of an edit script with `context` unchanged lines around each change; `oldText`/`newText` give the line
 * printed for an index (unchanged lines print as the new side has them).
 */
export function toHunks(edits: readonly Edit[], oldText: (index: number) => string, newText: (index: number) => string, context = 2): Hunk[] {
  const changed = edits.map((e, i) => (e.op === 'equal' ? -1 : i)).filter((i) => i >= 0);
  const hunks: Hunk[] = [];
  let at = 0;
  while (at < changed.length) {
    const first = changed[at] as number;
    let last = first;
    // Changes closer than two contexts apart share a hunk.
    while (at + 1 < changed.length && (changed[at + 1] as number) - last <= 2 * context + 1) last = changed[++at] as number;
    at++;
    const start = Math.max(0, first - context);
    const end = Math.min(edits.length, last + context + 1);
    const slice = edits.slice(start, end);
    // Where the hunk starts in each sequence: the first index it holds there, or the position after the ones before.
    const oldBefore = edits.slice(0, start).filter((e) => e.op !== 'insert').length;
    const newBefore = edits.slice(0, start).filter((e) => e.op !== 'delete').length;
    const oldLines = slice.filter((e) => e.op !== 'insert').length;
    const newLines = slice.filter((e) => e.op !== 'delete').length;
    hunks.push({
      oldStart: oldLines === 0 ? oldBefore : oldBefore + 1,
      oldLines,
      newStart: newLines === 0 ? newBefore : newBefore + 1,
      newLines,
      lines: slice.map((e) =>
        e.op === 'equal' ? { op: ' ', text: newText(e.newIndex) } : e.op === 'delete' ? { op: '-', text: oldText(e.oldIndex) } : { op: '+', text: newText(e.newIndex) },
      ),
    });
  }
  return hunks;
}
