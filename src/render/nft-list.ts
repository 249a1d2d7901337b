/**
 * IR → the `nft list ruleset` text, as nft 1.0.x prints a ruleset after loading our dump (checked against
 * nft 1.0.6 in a scratch network namespace, test/nft-kernel.test.ts).
 *
 * Object order follows the dump (the kernel lists objects in creation order): sets then maps, each sorted by
 * name, then chains sorted by name. Elements are printed in IR order; a real kernel lists hash-set elements
 * in its own bucket order, which no printer can predict. Statements are printed in nft's spelling, not as
 * written: `mark set mark or 0x4000` lists as `meta mark set meta mark | 0x00004000`, a one-element anonymous
 * set `{ 10.0.0.0/8 }` as `10.0.0.0/8`, a timeout of 10800s as `3h`, priority -110 on prerouting as
 * `dstnat - 10`.
 */
import type { NftChain, NftElement, NftExpr, NftFamily, NftOperand, NftRule, NftRuleset, NftSet, NftStatement, NftTable } from '../ir/nftables.js';
import { NFT_PRIORITIES, verdictText } from '../ir/nftables.js';
import { bitsOf, hostCIDR, ipFromValue, makeCIDR, parseCIDR, parseIP, type IPFamily } from '../net/ip.js';
import { byName, sortedTables } from './nft-dump.js';
import { SharedTexts } from './shared-texts.js';
import { TextBuffer } from './text-buffer.js';

export function renderNftList(ruleset: NftRuleset): string {
  const out = new TextBuffer();
  const shared = new SharedTexts();
  for (const table of sortedTables(ruleset.tables)) renderTable(table, out, shared);
  return out.text();
}

function renderTable(table: NftTable, out: TextBuffer, shared: SharedTexts): void {
  out.push(`table ${table.family} ${table.name} {\n`);
  if (table.flags?.length) out.push(`\tflags ${table.flags.join(',')}\n`);
  if (table.comment !== undefined) out.push(`\tcomment ${quote(table.comment)}\n`);
  // nft separates objects by a blank line, and the declarations from the first object only after flags.
  let first = !table.flags?.length;
  const separate = () => {
    if (!first) out.push('\n');
    first = false;
  };
  const dynamicSets = setsUpdatedByRules(table);
  const sets = byName(table.sets.filter((s) => s.kind === 'set'));
  const maps = byName(table.sets.filter((s) => s.kind === 'map'));
  for (const set of [...sets, ...maps]) {
    separate();
    for (const line of renderSet(set, table.family, dynamicSets.has(set.name))) out.push(`${line}\n`);
  }
  for (const chain of byName(table.chains)) {
    separate();
    renderChain(chain, table.family, out, shared);
  }
  out.push('}\n');
}

/** Sets a rule adds to from the packet path: nft gives them the default size 65535 when none was declared. */
function setsUpdatedByRules(table: NftTable): Set<string> {
  const names = new Set<string>();
  for (const chain of table.chains) {
    for (const rule of chain.rules) for (const s of rule.statements) if (s.kind === 'set-update') names.add(s.set);
  }
  return names;
}

function renderSet(set: NftSet, family: NftFamily, updatedByRules: boolean): string[] {
  const lines = [`\t${set.kind} ${set.name} {`];
  const data = set.dataType === undefined ? '' : ` : ${set.dataType}`;
  lines.push(set.typeof !== undefined ? `\t\ttypeof ${set.typeof}${data}` : `\t\ttype ${set.type}${data}`);
  if (set.policy !== undefined && set.policy !== 'performance') lines.push(`\t\tpolicy ${set.policy}`);
  const size = set.size ?? (updatedByRules ? 65535 : undefined);
  if (size !== undefined) lines.push(`\t\tsize ${size}`);
  const flags = orderedSetFlags(set);
  if (flags.length > 0) lines.push(`\t\tflags ${flags.join(',')}`);
  if (set.timeout !== undefined) lines.push(`\t\ttimeout ${formatDuration(set.timeout)}`);
  if (set.gcInterval !== undefined) lines.push(`\t\tgc-interval ${formatDuration(set.gcInterval)}`);
  if (set.autoMerge) lines.push('\t\tauto-merge');
  if (set.comment !== undefined) lines.push(`\t\tcomment ${quote(set.comment)}`);
  if (set.elements.length > 0) {
    lines.push(`\t\telements = ${elementBlock(set, family)}`);
  }
  lines.push('\t}');
  return lines;
}

/**
 * nft prints flags in a fixed order; `timeout` alone is implied by a set timeout and then not printed.
 */
function orderedSetFlags(set: NftSet): string[] {
  const flags = set.flags ?? [];
  if (flags.length === 1 && flags[0] === 'timeout' && set.timeout !== undefined) return [];
  const order = ['constant', 'dynamic', 'interval', 'timeout'];
  const known = order.filter((f) => flags.includes(f));
  return [...known, ...flags.filter((f) => !order.includes(f))];
}

/**
 * nft breaks element lists after a number of elements that depends on the key type: 2 IPv4 addresses,
 * 5 small integers (ports, protocols, marks), and 1 of anything else (IPv6, concatenations).
 */
function elementBlock(set: NftSet, family: NftFamily): string {
  const perLine = elementsPerLine(set.typeof === undefined ? set.type : '');
  let text = '{ ';
  set.elements.forEach((element, i) => {
    if (i > 0) text += i % perLine === 0 ? ',\n\t\t\t     ' : ', ';
    text += elementListText(element, family, keyTypes(set));
  });
  return `${text} }`;
}

function elementsPerLine(type: string): number {
  if (type === 'ipv4_addr' || type === 'ct_state' || type === 'ct_status' || type === 'pkt_type') return 2;
  if (/^(inet_proto|inet_service|mark|integer|nf_proto|ifindex|uid|gid|classid|arp_op|tcp_flag|ct_dir)$/.test(type)) return 5;
  return 1;
}

function keyTypes(set: NftSet): string[] {
  return set.typeof === undefined ? set.type.split(' . ') : [];
}

function elementListText(element: NftElement, family: NftFamily, types: readonly string[]): string {
  let text = element.key.map((k, i) => listValue(k, types[i] === 'mark' ? 'meta mark' : undefined)).join(' . ');
  if (element.timeout !== undefined) text += ` timeout ${formatDuration(element.timeout)}`;
  if (element.comment !== undefined) text += ` comment ${quote(element.comment)}`;
  if (element.value) {
    text += ` : ${element.value.kind === 'verdict' ? verdictText(element.value.verdict) : element.value.parts.join(' . ')}`;
  }
  void family;
  return text;
}

function renderChain(chain: NftChain, family: NftFamily, out: TextBuffer, shared: SharedTexts): void {
  out.push(`\tchain ${chain.name} {\n`);
  if (chain.comment !== undefined) out.push(`\t\tcomment ${quote(chain.comment)}\n`);
  if (chain.base) {
    const b = chain.base;
    const device = b.device === undefined ? '' : ` device ${quote(b.device)}`;
    out.push(`\t\ttype ${b.type} hook ${b.hook}${device} priority ${priorityText(b.priority, b.hook, family)}; policy ${b.policy ?? 'accept'};\n`);
  }
  for (const rule of chain.rules) out.push(`\t\t${ruleListText(rule, shared)}\n`);
  out.push('\t}\n');
}

/** Within ±10 of a standard priority nft prints the name (`dstnat - 10`), where the name suits the hook. */
export function priorityText(priority: number, hook: string, family: NftFamily): string {
  if (family !== 'ip' && family !== 'ip6' && family !== 'inet') return String(priority);
  for (const [name, value] of Object.entries(NFT_PRIORITIES)) {
    const offset = priority - value;
    if (Math.abs(offset) > 10) continue;
    const fits = name === 'dstnat' ? hook === 'prerouting' : name === 'srcnat' ? hook === 'postrouting' : true;
    if (!fits) break;
    return offset === 0 ? name : `${name} ${offset > 0 ? '+' : '-'} ${Math.abs(offset)}`;
  }
  return String(priority);
}

/** One rule in nft's spelling; unknown statements keep their words. */
export function ruleListText(rule: NftRule, shared?: SharedTexts): string {
  let text = '';
  for (const statement of rule.statements) {
    const spelled = shared ? shared.of(statement, statementText) : statementText(statement);
    text += text === '' ? spelled : ` ${spelled}`;
  }
  return rule.comment === undefined ? text : `${text}${text === '' ? '' : ' '}comment ${quote(rule.comment)}`;
}

function statementText(s: NftStatement): string {
  switch (s.kind) {
    case 'match': {
      const left = exprText(s.left);
      const context = fieldOf(s.left);
      const op = s.op !== '==' ? `${s.op} ` : s.left.kind === 'bitwise' ? '== ' : '';
      return `${left} ${op}${operandText(s.right, context)}`;
    }
    case 'vmap':
      return `${exprText(s.key)} vmap ${operandText(s.map, undefined, true)}`;
    case 'verdict':
      return verdictText(s.verdict);
    case 'reject':
      return s.with ? `reject with ${s.with.join(' ')}` : 'reject';
    case 'counter':
      return s.name !== undefined ? `counter name ${quote(s.name)}` : `counter packets ${s.packets ?? 0n} bytes ${s.bytes ?? 0n}`;
    case 'set-field':
      return `${s.field} set ${'kind' in s.value && s.value.kind === 'value' ? listValue(s.value.value, s.field) : exprText(s.value as NftExpr)}`;
    case 'masquerade':
      return ['masquerade', ...s.flags].join(' ');
    case 'nat': {
      const address = s.address.includes(':') && s.port !== undefined ? `[${s.address}]` : s.address;
      const target = s.port === undefined ? address : `${address}:${s.port}`;
      return [s.type, ...(s.family ? [s.family] : []), 'to', target, ...s.flags].join(' ');
    }
    case 'set-update':
      return `${s.op} @${s.set} { ${exprText(s.key)} }`;
    case 'log':
      return ['log', ...s.words].join(' ');
    case 'unknown':
      return s.words.join(' ');
  }
}

function exprText(e: NftExpr): string {
  switch (e.kind) {
    case 'field':
      return e.name;
    case 'numgen':
      return `numgen ${e.mode} mod ${e.mod}${e.offset === undefined ? '' : ` offset ${e.offset}`}`;
    case 'bitwise':
      return `${exprText(e.left)} ${e.op === 'and' ? '&' : e.op === 'or' ? '|' : '^'} ${listValue(e.value, fieldOf(e.left))}`;
    case 'concat':
      return e.parts.map(exprText).join(' . ');
  }
}

function fieldOf(e: NftExpr): string | undefined {
  return e.kind === 'field' ? e.name : e.kind === 'bitwise' ? fieldOf(e.left) : undefined;
}

function operandText(o: NftOperand, context: string | undefined, keepBraces = false): string {
  switch (o.kind) {
    case 'value':
      return listValue(o.value, context);
    case 'set-ref':
      return `@${o.name}`;
    case 'anon-set': {
      const merged = context !== undefined && isAddressField(context) ? mergeAddressIntervals(o.elements) : undefined;
      const texts =
        merged ??
        o.elements.map((el) => {
          let text = el.key.map((k) => listValue(k, context)).join(' . ');
          if (el.value) text += ` : ${el.value.kind === 'verdict' ? verdictText(el.value.verdict) : el.value.parts.join(' . ')}`;
          return text;
        });
      // nft folds a one-element anonymous set into a plain value when reading the rule; a set that only
      // merges down to one interval in the kernel keeps its braces.
      if (o.elements.length === 1 && texts.length === 1 && !keepBraces) return texts[0] as string;
      return `{ ${texts.join(', ')} }`;
    }
  }
}

function isAddressField(field: string): boolean {
  return /^(ip|ip6) (saddr|daddr)$/.test(field);
}

/**
 * Anonymous address sets are interval sets: the kernel keeps them sorted, with overlapping and adjacent
 * intervals merged (`{ 10.0.0.0/9, 10.128.0.0/9 }` lists as `{ 10.0.0.0/8 }`), except that two adjacent
 * plain addresses stay apart (`{ 10.0.0.2, 10.0.0.3 }`). An interval that is no prefix prints as
 * `first-last`. All checked against nft 1.0.6. Undefined when an element is not an address.
 */
function mergeAddressIntervals(elements: readonly NftElement[]): string[] | undefined {
  const ranges: { family: IPFamily; start: bigint; end: bigint; single: boolean }[] = [];
  for (const el of elements) {
    const text = el.key.length === 1 && !el.value ? (el.key[0] as string) : '';
    const dash = text.indexOf('-');
    if (dash > 0) {
      const first = parseIP(text.slice(0, dash));
      const last = parseIP(text.slice(dash + 1));
      if (!first || !last || first.family !== last.family) return undefined;
      ranges.push({ family: first.family, start: first.value, end: last.value, single: false });
      continue;
    }
    const ip = text.includes('/') ? undefined : parseIP(text);
    const cidr = ip ? hostCIDR(ip) : parseCIDR(text);
    if (!cidr) return undefined;
    const size = 1n << BigInt(bitsOf(cidr.family) - cidr.prefix);
    ranges.push({ family: cidr.family, start: cidr.network, end: cidr.network + size - 1n, single: ip !== undefined });
  }
  ranges.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  // Merge until nothing changes: an interval grown by a merge may now touch the plain address before it.
  let merged = ranges.map((r) => ({ ...r }));
  for (let changed = true; changed; ) {
    changed = false;
    const next: typeof merged = [];
    for (const r of merged) {
      const last = next[next.length - 1];
      const overlaps = last !== undefined && r.start <= last.end;
      const touches = last !== undefined && r.start === last.end + 1n && !(last.single && r.single);
      if (last && (overlaps || touches)) {
        if (r.end > last.end) last.end = r.end;
        last.single = last.single && r.single && r.start === last.start && r.end === last.end;
        changed = true;
      } else {
        next.push(r);
      }
    }
    merged = next;
  }
  return merged.map((r) => {
    const size = r.end - r.start + 1n;
    const bits = bitsOf(r.family);
    const hostBits = size.toString(2).length - 1;
    const isPrefix = (size & (size - 1n)) === 0n && r.start % size === 0n;
    if (!isPrefix) return `${ipFromValue(r.family, r.start).text}-${ipFromValue(r.family, r.end).text}`;
    const prefix = bits - hostBits;
    return prefix === bits ? ipFromValue(r.family, r.start).text : makeCIDR(r.family, r.start, prefix).text;
  });
}

/** A value as nft prints it in the context of a field: marks as 8-digit hex, host prefixes without `/32`. */
function listValue(value: string, field: string | undefined): string {
  if (field === 'meta mark' || field === 'ct mark') {
    const n = /^0x[0-9a-f]+$/i.test(value) ? Number.parseInt(value.slice(2), 16) : /^\d+$/.test(value) ? Number(value) : undefined;
    if (n !== undefined && n <= 0xffffffff) return `0x${n.toString(16).padStart(8, '0')}`;
  }
  if (field !== undefined && /^(iif|oif|iifname|oifname|meta (iif|oif)name|ct helper)$/.test(field)) return quote(value);
  const host = /^(.+)\/(32|128)$/.exec(value);
  if (host && parseCIDR(value) !== undefined && (host[2] === '32') === !value.includes(':')) return host[1] as string;
  return value;
}

/** nft's duration format: `3h`, `1m30s`, `1d1h1m1s`. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const units: [number, string][] = [[86400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];
  let rest = seconds;
  let text = '';
  for (const [size, unit] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) text += `${n}${unit}`;
    rest -= n * size;
  }
  return text;
}

/** nft prints strings between double quotes without escaping. */
function quote(text: string): string {
  return `"${text}"`;
}
