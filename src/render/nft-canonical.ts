/**
 * kube-proxy's `sortNFTablesTransaction` (pkg/proxy/nftables/proxier_test.go): the canonical form its tests
 * compare dumps in, because element order comes from Go map iteration. Blank and `#` lines are dropped; lines
 * are stably sorted by object type (table, chain, rule, set, map, element, anything else), then by object name
 * (the 5th word), then by the whole line, except that rules keep their relative order.
 */
const TYPE_RANK: Readonly<Record<string, number>> = { table: 10, chain: 9, rule: 8, set: 7, map: 6, element: 5 };

export function canonicalizeNftDump(text: string): string {
  const lines = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  const keyed = lines.map((line) => {
    const words = line.split(' ');
    const type = words[1] ?? '';
    return { line, type, rank: Object.hasOwn(TYPE_RANK, type) ? (TYPE_RANK[type] as number) : 0, name: words[4] ?? '' };
  });
  // Array.prototype.sort is stable, like Go's sort.SliceStable.
  keyed.sort((a, b) => {
    if (a.type !== b.type) return b.rank - a.rank;
    if (a.name !== b.name) return a.name < b.name ? -1 : 1;
    if (a.type === 'rule') return 0;
    return a.line < b.line ? -1 : a.line > b.line ? 1 : 0;
  });
  return keyed.map((k) => `${k.line}\n`).join('');
}
