/**
 * The canonical form kube-proxy's unit tests compare payloads in (proxier_test.go sortIPTablesRules, spec §11):
 * tables by name; chains KUBE-NODEPORTS, KUBE-SERVICES, other KUBE-* then the rest, alphabetically; the rules
 * of KUBE-NODEPORTS and KUBE-SERVICES (filter and nat) stable-sorted by service name, with nat's "must be the
 * last rule" rule kept last; then `*table`, chain lines, rules chain by chain, `-X` lines, COMMIT.
 * Works on raw lines (a rule is `-A CHAIN` + its text), so rules a full parse would refuse keep their place.
 */
import { commentOf, fields, splitTables } from '../parse/lenient.js';

interface CanonChain {
  name: string;
  counters: string;
  rules: string[];
  deleted: boolean;
}

interface CanonTable {
  name: string;
  chains: CanonChain[];
}

export function canonicalizeIptables(text: string): string {
  const tables: CanonTable[] = splitTables(text).map((raw) => {
    const byName = new Map<string, CanonChain>();
    const chains: CanonChain[] = [];
    const chainOf = (name: string, counters = '[0:0]'): CanonChain => {
      let chain = byName.get(name);
      if (!chain) {
        chain = { name, counters, rules: [], deleted: false };
        byName.set(name, chain);
        chains.push(chain);
      }
      return chain;
    };
    for (const line of raw.lines) {
      if (line.startsWith(':')) {
        const [name, , counters] = fields(line.slice(1));
        if (name !== undefined) chainOf(name, counters ?? '[0:0]');
        continue;
      }
      const words = fields(line);
      if (words[0] === '-A' && words[1] !== undefined) chainOf(words[1]).rules.push(line);
      else if (words[0] === '-X' && words[1] !== undefined) chainOf(words[1]).deleted = true;
    }
    return { name: raw.name, chains };
  });

  tables.sort((a, b) => compareStrings(a.name, b.name));
  for (const table of tables) {
    table.chains.sort((a, b) => compareChains(a.name, b.name));
    if (table.name !== 'filter' && table.name !== 'nat') continue;
    for (const chain of table.chains) {
      if (chain.name === 'KUBE-NODEPORTS') chain.rules = sortByService(chain.rules, false);
      if (chain.name === 'KUBE-SERVICES') chain.rules = sortByService(chain.rules, table.name === 'nat');
    }
  }

  let out = '';
  for (const table of tables) {
    out += `*${table.name}\n`;
    for (const chain of table.chains) out += `:${chain.name} - ${chain.counters}\n`;
    for (const chain of table.chains) for (const rule of chain.rules) out += `${rule}\n`;
    for (const chain of table.chains) if (chain.deleted) out += `-X ${chain.name}\n`;
    out += 'COMMIT\n';
  }
  return out;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareChains(a: string, b: string): number {
  const rank = (name: string): number =>
    name === 'KUBE-NODEPORTS' ? 0 : name === 'KUBE-SERVICES' ? 1 : name.startsWith('KUBE-') ? 2 : 3;
  return rank(a) - rank(b) || compareStrings(a, b);
}

interface Keyed {
  rule: string;
  /** Comment up to the first space or colon (`ns1/svc1:p80 cluster IP` → `ns1/svc1`); undefined without comment. */
  service: string | undefined;
  /** nat KUBE-SERVICES' "must be the last rule" rule. */
  last: boolean;
}

function sortByService(rules: string[], keepLastRuleLast: boolean): string[] {
  const keyed: Keyed[] = rules.map((rule) => {
    const comment = commentOf(rule);
    const last = keepLastRuleLast && (comment?.includes('must be the last rule') ?? false);
    return { rule, service: comment === undefined ? undefined : serviceOf(comment), last };
  });
  goStableSort(keyed, (a, b) => {
    if (a.last) return false;
    if (b.last) return true;
    // Rules without a comment compare equal to everything (less is false both ways).
    return a.service !== undefined && b.service !== undefined && a.service < b.service;
  });
  return keyed.map((k) => k.rule);
}

function serviceOf(comment: string): string {
  let end = comment.length;
  const space = comment.indexOf(' ');
  const colon = comment.indexOf(':');
  if (space >= 0) end = space;
  if (colon >= 0 && colon < end) end = colon;
  return comment.slice(0, end);
}

/**
 * Go's sort.SliceStable, step for step (insertion-sorted blocks of 20, then SymMerge). With a less function
 * that is not a strict weak order (rules without comments "equal" to all) the result depends on the
 * algorithm, so only the same algorithm reproduces Go's output.
 */
export function goStableSort<T>(data: T[], less: (a: T, b: T) => boolean): void {
  const n = data.length;
  const lessAt = (i: number, j: number): boolean => less(data[i] as T, data[j] as T);
  const swap = (i: number, j: number): void => {
    const t = data[i] as T;
    data[i] = data[j] as T;
    data[j] = t;
  };
  const insertionSort = (a: number, b: number): void => {
    for (let i = a + 1; i < b; i++) for (let j = i; j > a && lessAt(j, j - 1); j--) swap(j, j - 1);
  };
  const swapRange = (a: number, b: number, count: number): void => {
    for (let i = 0; i < count; i++) swap(a + i, b + i);
  };
  const rotate = (a: number, m: number, b: number): void => {
    let i = m - a;
    let j = b - m;
    while (i !== j) {
      if (i > j) {
        swapRange(m - i, m, j);
        i -= j;
      } else {
        swapRange(m - i, m + j - i, i);
        j -= i;
      }
    }
    swapRange(m - i, m, i);
  };
  const symMerge = (a: number, m: number, b: number): void => {
    if (m - a === 1) {
      let i = m;
      let j = b;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (lessAt(h, a)) i = h + 1;
        else j = h;
      }
      for (let k = a; k < i - 1; k++) swap(k, k + 1);
      return;
    }
    if (b - m === 1) {
      let i = a;
      let j = m;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (!lessAt(m, h)) i = h + 1;
        else j = h;
      }
      for (let k = m; k > i; k--) swap(k, k - 1);
      return;
    }
    const mid = (a + b) >>> 1;
    const nn = mid + m;
    let start: number;
    let r: number;
    if (m > mid) {
      start = nn - b;
      r = mid;
    } else {
      start = a;
      r = m;
    }
    const p = nn - 1;
    while (start < r) {
      const c = (start + r) >>> 1;
      if (!lessAt(p - c, c)) start = c + 1;
      else r = c;
    }
    const end = nn - start;
    if (start < m && m < end) rotate(start, m, end);
    if (a < start && start < mid) symMerge(a, start, mid);
    if (mid < end && end < b) symMerge(mid, end, b);
  };

  let blockSize = 20;
  let a = 0;
  let b = blockSize;
  while (b <= n) {
    insertionSort(a, b);
    a = b;
    b += blockSize;
  }
  insertionSort(a, n);
  while (blockSize < n) {
    a = 0;
    b = 2 * blockSize;
    while (b <= n) {
      symMerge(a, a + blockSize, b);
      a = b;
      b += 2 * blockSize;
    }
    const m = a + blockSize;
    if (m < n) symMerge(a, m, n);
    blockSize *= 2;
  }
}
