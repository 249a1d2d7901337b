/**
 * Conversion between a rule and its argument vector (`['-m', 'tcp', '-p', 'tcp', '--dport', '80', '-j', 'X']`),
 * the form kube-proxy builds rules in and the form a tokenized rule line has. Quoting is not handled here:
 * arguments are already unquoted words.
 */
import type { MatchPart, Rule, Target, TargetOption } from './iptables.js';

/** Options of the match extensions we know, so each option is attributed to the module that owns it. */
const MODULE_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  tcp: ['dport', 'sport', 'destination-port', 'source-port', 'tcp-flags', 'syn', 'tcp-option'],
  udp: ['dport', 'sport', 'destination-port', 'source-port'],
  sctp: ['dport', 'sport', 'destination-port', 'source-port', 'chunk-types'],
  icmp: ['icmp-type'],
  icmp6: ['icmpv6-type'],
  comment: ['comment'],
  addrtype: ['src-type', 'dst-type', 'limit-iface-in', 'limit-iface-out'],
  conntrack: [
    'ctstate', 'ctproto', 'ctorigsrc', 'ctorigdst', 'ctreplsrc', 'ctrepldst', 'ctorigsrcport',
    'ctorigdstport', 'ctreplsrcport', 'ctrepldstport', 'ctstatus', 'ctexpire', 'ctdir',
  ],
  state: ['state'],
  mark: ['mark'],
  statistic: ['mode', 'probability', 'every', 'packet'],
  recent: ['name', 'set', 'rcheck', 'update', 'remove', 'seconds', 'reap', 'hitcount', 'rttl', 'mask', 'rsource', 'rdest'],
  multiport: ['dports', 'sports', 'ports', 'destination-ports', 'source-ports'],
  nfacct: ['nfacct-name'],
  physdev: ['physdev-in', 'physdev-out', 'physdev-is-in', 'physdev-is-out', 'physdev-is-bridged'],
  set: ['match-set', 'return-nomatch', 'update-counters', 'update-subcounters', 'packets-gt', 'bytes-gt'],
  limit: ['limit', 'limit-burst'],
  owner: ['uid-owner', 'gid-owner', 'socket-exists'],
};

/** Options that take no argument; every other known option takes one, except the two-argument ones. */
const FLAG_OPTIONS: ReadonlySet<string> = new Set([
  'set', 'rcheck', 'update', 'remove', 'reap', 'rttl', 'rsource', 'rdest', 'syn',
  'physdev-is-in', 'physdev-is-out', 'physdev-is-bridged', 'return-nomatch', 'socket-exists',
  'random', 'random-fully', 'persistent',
]);
const TWO_ARG_OPTIONS: ReadonlySet<string> = new Set(['match-set', 'tcp-flags']);
/** Target options that always take a value (so a missing one is an error, not a flag). */
const TARGET_VALUE_OPTIONS: ReadonlySet<string> = new Set([
  'to-destination', 'to-source', 'to-ports', 'reject-with', 'set-xmark', 'set-mark', 'or-mark', 'xor-mark', 'and-mark',
  'log-prefix', 'log-level',
]);

type BasicKind = 'source' | 'destination' | 'protocol' | 'inInterface' | 'outInterface';
const BASIC_FLAGS: ReadonlyMap<string, BasicKind> = new Map([
  ['-s', 'source'], ['--source', 'source'], ['--src', 'source'],
  ['-d', 'destination'], ['--destination', 'destination'], ['--dst', 'destination'],
  ['-p', 'protocol'], ['--protocol', 'protocol'],
  ['-i', 'inInterface'], ['--in-interface', 'inInterface'],
  ['-o', 'outInterface'], ['--out-interface', 'outInterface'],
]);

/** `--dport` → `dport` for every known option: no fresh name string per option word of a large input. */
const OPTION_NAMES: ReadonlyMap<string, string> = new Map(
  [...Object.values(MODULE_OPTIONS).flat(), ...FLAG_OPTIONS, ...TARGET_VALUE_OPTIONS].map((name) => [`--${name}`, name]),
);

/** MODULE_OPTIONS as sets in a Map: lookups on every option word of a 400k-rule parse or compile. */
const MODULE_OPTION_SETS: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  Object.entries(MODULE_OPTIONS).map(([module, options]) => [module, new Set(options)]),
);

/** On failure, `index` is the position in `args` of the word at fault (args.length when a word is missing). */
export type ArgsResult =
  | { ok: true; parts: MatchPart[]; target?: Target }
  | { ok: false; message: string; index: number };

/**
 * Reads the words after `-A CHAIN` into match parts and a target. `from` skips leading words (a parser
 * passes its whole tokenized line); error indexes are positions in `args`.
 */
export function partsFromArgs(args: readonly string[], from = 0, intern?: PartInterner): ArgsResult {
  const parts: MatchPart[] = [];
  const modules: string[] = [];
  let negated = false;
  for (let i = from; i < args.length; i++) {
    const word = args[i] as string;
    if (word === '!') {
      if (negated) return { ok: false, message: 'double negation "! !"', index: i };
      negated = true;
      continue;
    }
    if (word === '-j' || word === '--jump' || word === '-g' || word === '--goto') {
      if (negated) return { ok: false, message: `"!" cannot negate ${word}`, index: i };
      const name = args[i + 1];
      if (name === undefined || name.startsWith('-')) return { ok: false, message: `${word} needs a target name`, index: i + 1 };
      const goto = word === '-g' || word === '--goto';
      // Most targets are a bare verdict or chain: shared straight away, no options list to read.
      if (intern && i + 2 >= args.length) return { ok: true, parts, target: intern.jump(name, goto) };
      const options = readTargetOptions(args, i + 2);
      if (!options.ok) return options;
      const target: Target = { name, goto, options: options.options };
      return { ok: true, parts, target: intern ? intern.target(target) : target };
    }
    const basic = BASIC_FLAGS.get(word);
    if (basic) {
      const value = args[++i];
      if (value === undefined) return { ok: false, message: `${word} needs a value`, index: i };
      parts.push(intern ? intern.basic(basic, negated, value) : basicPart(basic, negated, value));
      if (basic === 'protocol') modules.push(value.toLowerCase());
      negated = false;
      continue;
    }
    if (word === '-m' || word === '--match') {
      if (negated) return { ok: false, message: '"!" cannot negate -m', index: i };
      const name = args[++i];
      if (name === undefined || name.startsWith('-')) return { ok: false, message: '-m needs a module name', index: i };
      parts.push(intern ? intern.module(name) : { kind: 'module', name });
      modules.push(name);
      continue;
    }
    if (word.startsWith('--') && word.length > 2) {
      const name = OPTION_NAMES.get(word) ?? word.slice(2);
      const module = ownerOf(name, modules);
      if (module === undefined) return { ok: false, message: `option ${word} belongs to no loaded match (missing -m?)`, index: i };
      const arity = FLAG_OPTIONS.has(name) ? 0 : TWO_ARG_OPTIONS.has(name) ? 2 : -1;
      // The common case, a known one-value option (`--dport 80`): its args array built at its final size.
      if (arity < 0 && name !== 'comment' && optionsOf(module)?.has(name)) {
        const value = args[i + 1];
        if (value === undefined) return { ok: false, message: `${word} needs a value`, index: i + 1 };
        i++;
        // The one module whose numbers are checked here: the kernel refuses bad ones at load time, and
        // renderers quantize the probability (a NaN would throw there).
        if (module === 'statistic') {
          const bad = badStatisticValue(name, value, parts);
          if (bad !== undefined) return { ok: false, message: bad, index: i };
        }
        parts.push(intern ? intern.option(module, name, negated, value) : { kind: 'option', module, name, negated, args: [value] });
        negated = false;
        continue;
      }
      const values: string[] = [];
      if (arity >= 0) {
        for (let k = 0; k < arity; k++) {
          const value = args[++i];
          if (value === undefined) return { ok: false, message: `${word} needs ${arity} value(s)`, index: i };
          values.push(value);
        }
      } else {
        // A known option takes one value. An option we do not know (of a module we do not know) takes
        // every word up to the next flag, possibly none: real nodes carry `-m socket --transparent` & co.
        const known = optionsOf(module)?.has(name) ?? false;
        if (known) {
          const value = args[i + 1];
          if (value === undefined) return { ok: false, message: `${word} needs a value`, index: i + 1 };
          values.push(value);
          i++;
        }
        if (!known || name === 'comment') {
          for (let value = args[i + 1]; value !== undefined && !isFlag(value); value = args[i + 1]) {
            values.push(value);
            i++;
          }
        }
        // kube-proxy's unit-test fake stores base-chain comments unquoted: `--comment kubernetes service portals`.
        if (name === 'comment' && values.length > 1) values.splice(0, values.length, values.join(' '));
      }
      // Exact-size copy: a pushed-to array keeps spare capacity, which adds up over 400k parsed rules.
      const part: MatchPart = { kind: 'option', module, name, negated, args: values.slice() };
      parts.push(intern ? intern.part(part) : part);
      negated = false;
      continue;
    }
    return { ok: false, message: `unexpected word "${word}"`, index: i };
  }
  if (negated) return { ok: false, message: 'dangling "!"', index: args.length };
  return { ok: true, parts };
}

/** A decimal number as strtod reads one (no hex, inf or nan), e.g. `0.5`, `1`, `.25`, `1e-3`. */
const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const DIGITS = /^[0-9]+$/;
const U32_MAX = 4294967295;

/**
 * Why xt_statistic would refuse `--NAME VALUE`, or undefined: `--probability` is a decimal number in [0, 1],
 * `--every` an integer from 1, `--packet` an integer below `--every` (both u32). The pair may come in either
 * order, so it is checked when its second half is read, against the earlier one in `parts`.
 */
function badStatisticValue(name: string, value: string, parts: readonly MatchPart[]): string | undefined {
  if (name === 'probability') {
    return isProbability(value) ? undefined : `bad --probability "${value}" (expected a decimal number from 0 to 1)`;
  }
  if (name !== 'every' && name !== 'packet') return undefined;
  const n = DIGITS.test(value) ? Number(value) : NaN;
  if (name === 'every' && !(n >= 1 && n <= U32_MAX)) return `bad --every "${value}" (expected an integer from 1 to ${U32_MAX})`;
  if (name === 'packet' && !(n <= U32_MAX)) return `bad --packet "${value}" (expected an integer from 0 to --every minus 1)`;
  const other = statisticValue(parts, name === 'every' ? 'packet' : 'every');
  if (other === undefined) return undefined;
  const [every, packet] = name === 'every' ? [n, Number(other)] : [Number(other), n];
  if (packet < every) return undefined;
  return name === 'packet'
    ? `bad --packet "${value}" (expected an integer from 0 to ${every - 1}, below --every ${every})`
    : `bad --every "${value}" (expected an integer above --packet ${packet})`;
}

/** A decimal number from 0 to 1, as xt_statistic accepts for --probability. */
function isProbability(text: string): boolean {
  // kube-proxy writes `0.` and ten digits, one per endpoint of every Service: read in place, no regex.
  if (text.length > 2 && text.charCodeAt(0) === 0x30 && text.charCodeAt(1) === 0x2e) {
    let k = 2;
    for (; k < text.length; k++) {
      const c = text.charCodeAt(k);
      if (c < 0x30 || c > 0x39) break;
    }
    if (k === text.length) return true;
  }
  const p = DECIMAL.test(text) ? Number(text) : NaN;
  return p >= 0 && p <= 1;
}

/** The value of the current `-m statistic` match's option `name` among the parts read so far. */
function statisticValue(parts: readonly MatchPart[], name: string): string | undefined {
  for (let k = parts.length - 1; k >= 0; k--) {
    const part = parts[k] as MatchPart;
    if (part.kind === 'module' && part.name === 'statistic') return undefined;
    if (part.kind === 'option' && part.module === 'statistic' && part.name === name) return part.args[0];
  }
  return undefined;
}

function basicPart(kind: BasicKind, negated: boolean, value: string): MatchPart {
  if (kind === 'protocol') return { kind, negated, protocol: value };
  if (kind === 'inInterface' || kind === 'outInterface') return { kind, negated, name: value };
  return { kind, negated, address: value };
}

/** The latest loaded module that knows the option; an unknown option goes to the latest unknown module. */
function ownerOf(option: string, modules: readonly string[]): string | undefined {
  for (let k = modules.length - 1; k >= 0; k--) {
    const module = modules[k] as string;
    if (optionsOf(module)?.has(option)) return module;
  }
  for (let k = modules.length - 1; k >= 0; k--) {
    const module = modules[k] as string;
    if (optionsOf(module) === undefined) return module;
  }
  return undefined;
}

function readTargetOptions(
  args: readonly string[],
  from: number,
): { ok: true; options: TargetOption[] } | { ok: false; message: string; index: number } {
  const options: TargetOption[] = [];
  for (let i = from; i < args.length; i++) {
    const word = args[i] as string;
    if (!word.startsWith('--')) return { ok: false, message: `unexpected word "${word}" after the target`, index: i };
    const name = word.slice(2);
    const values: string[] = [];
    // Target extensions have many flags (`--notrack`, `--clamp-mss-to-pmtu`, ...): an option followed by
    // another option or by nothing is a flag, unless it is one we know needs a value.
    const next = args[i + 1];
    if (!FLAG_OPTIONS.has(name) && next !== undefined && !next.startsWith('--')) {
      values.push(next);
      i++;
    } else if (!FLAG_OPTIONS.has(name) && TARGET_VALUE_OPTIONS.has(name)) {
      return { ok: false, message: `${word} needs a value`, index: i + 1 };
    }
    options.push({ name, args: values.slice() });
  }
  return { ok: true, options };
}

/** A Map, not an object lookup: a module named `constructor` must not find Object.prototype's. */
function optionsOf(module: string): ReadonlySet<string> | undefined {
  return MODULE_OPTION_SETS.get(module);
}

/** A word that starts the next flag rather than continuing a value list. */
function isFlag(word: string): boolean {
  return word === '!' || (word.length > 1 && word.startsWith('-'));
}

/** The argument vector of a rule's parts and target, in written order (no `-A CHAIN`). */
export function argsOfRule(rule: Pick<Rule, 'parts' | 'target'>): string[] {
  const args: string[] = [];
  for (const part of rule.parts) pushPartArgs(part, args);
  if (rule.target) pushTargetArgs(rule.target, args);
  return args;
}

export function argsOfPart(part: MatchPart): string[] {
  const args: string[] = [];
  pushPartArgs(part, args);
  return args;
}

/** Appends the words of one part (no intermediate arrays: renderers call this for every part of every rule). */
function pushPartArgs(part: MatchPart, args: string[]): void {
  if (part.kind === 'module') {
    args.push('-m', part.name);
    return;
  }
  if (part.negated) args.push('!');
  switch (part.kind) {
    case 'source':
      args.push('-s', part.address);
      return;
    case 'destination':
      args.push('-d', part.address);
      return;
    case 'protocol':
      args.push('-p', part.protocol);
      return;
    case 'inInterface':
      args.push('-i', part.name);
      return;
    case 'outInterface':
      args.push('-o', part.name);
      return;
    case 'option':
      args.push(`--${part.name}`);
      for (const arg of part.args) args.push(arg);
  }
}

export function argsOfTarget(target: Target): string[] {
  const args: string[] = [];
  pushTargetArgs(target, args);
  return args;
}

function pushTargetArgs(target: Target, args: string[]): void {
  args.push(target.goto ? '-g' : '-j', target.name);
  for (const option of target.options) {
    args.push(`--${option.name}`);
    for (const arg of option.args) args.push(arg);
  }
}

/** Builds a rule from kube-proxy style arguments; a malformed vector is a bug in the caller. */
export function ruleFromArgs(chain: string, args: readonly string[]): Rule {
  const result = partsFromArgs(args);
  if (!result.ok) throw new Error(`internal: bad rule for ${chain}: ${result.message}: ${args.join(' ')}`);
  return result.target ? { chain, parts: result.parts, target: result.target } : { chain, parts: result.parts };
}

/**
 * Shares equal match parts and targets between rules. A 400k-rule dump repeats `-p tcp`, `-m comment`,
 * `--dport 80`, a service's comment, `-j KUBE-MARK-MASQ` hundreds of thousands of times; keeping one frozen
 * copy of each cuts the live heap, and with it the garbage collector's work, by more than half. Parsed parts
 * are therefore immutable. Lookups go through nested maps so no key string is built per part.
 */
export class PartInterner {
  private readonly modules = new Map<string, MatchPart>();
  /** [negated ? 1 : 0] → protocol → part. */
  private readonly protocols = [new Map<string, MatchPart>(), new Map<string, MatchPart>()];
  /** kind, negated → network → part (host addresses are nearly all distinct and not looked up). */
  private readonly networks = new Map<string, Array<Map<string, MatchPart>>>();
  /** module → option → [negated] → the single argument (or '' for none) → part. */
  private readonly options = new Map<string, Map<string, Array<Map<string, MatchPart>>>>();
  /** [goto ? 1 : 0] → chain or verdict → option-less target. */
  private readonly jumps = [new Map<string, Target>(), new Map<string, Target>()];
  /** The previous comment: a chain's rules usually repeat it (KUBE-SEP pairs), and comments are too many to map. */
  private lastComment: MatchPart | undefined;

  part(part: MatchPart): MatchPart {
    let map: Map<string, MatchPart>;
    let key: string;
    switch (part.kind) {
      case 'module':
        map = this.modules;
        key = part.name;
        break;
      case 'protocol':
        map = this.protocols[part.negated ? 1 : 0] as Map<string, MatchPart>;
        key = part.protocol;
        break;
      case 'source':
      case 'destination': {
        const a = part.address;
        if (!a.includes('/') || a.endsWith('/32') || a.endsWith('/128')) return part;
        map = pick(this.networks, part.kind, part.negated);
        key = a;
        break;
      }
      case 'option': {
        if (part.args.length > 1) return part;
        if (part.name === 'comment' && part.module === 'comment') {
          const last = this.lastComment;
          if (last?.kind === 'option' && last.negated === part.negated && last.args[0] === part.args[0]) return last;
          // Shared by neighbours only, so not frozen: renderers cache the text of frozen (widely shared) parts,
          // and a cache entry per comment would cost more than it saves.
          this.lastComment = part;
          return part;
        }
        let byName = this.options.get(part.module);
        if (!byName) this.options.set(part.module, (byName = new Map()));
        map = pick(byName, part.name, part.negated);
        key = part.args[0] ?? '';
        break;
      }
      default:
        return part;
    }
    const known = map.get(key);
    if (known) return known;
    if (part.kind === 'option') Object.freeze(part.args);
    // Maps stay small (lookups into a large map cost cache misses); values past the cap are not shared.
    if (map.size < INTERN_CAP) map.set(key, Object.freeze(part));
    return part;
  }

  /** `-m NAME`, without building the part first when it is known. */
  module(name: string): MatchPart {
    const known = this.modules.get(name);
    if (known) return known;
    const part: MatchPart = { kind: 'module', name };
    if (this.modules.size < INTERN_CAP) this.modules.set(name, Object.freeze(part));
    return part;
  }

  /** `-s`/`-d`/`-p`/`-i`/`-o VALUE`, as `part(basicPart(...))` would give, without the throwaway part. */
  basic(kind: BasicKind, negated: boolean, value: string): MatchPart {
    let map: Map<string, MatchPart>;
    if (kind === 'protocol') {
      map = this.protocols[negated ? 1 : 0] as Map<string, MatchPart>;
    } else if (kind === 'source' || kind === 'destination') {
      if (!value.includes('/') || value.endsWith('/32') || value.endsWith('/128')) return { kind, negated, address: value };
      map = pick(this.networks, kind, negated);
    } else {
      return { kind, negated, name: value };
    }
    const known = map.get(value);
    if (known) return known;
    const part = basicPart(kind, negated, value);
    if (map.size < INTERN_CAP) map.set(value, Object.freeze(part));
    return part;
  }

  /** A one-value option, as `part({kind: 'option', ...})` would give, without the throwaway part. */
  option(module: string, name: string, negated: boolean, value: string): MatchPart {
    if (name === 'comment' && module === 'comment') {
      const last = this.lastComment;
      if (last?.kind === 'option' && last.negated === negated && last.args[0] === value) return last;
      const part: MatchPart = { kind: 'option', module, name, negated, args: Object.freeze([value]) as unknown as string[] };
      this.lastComment = Object.freeze(part);
      return part;
    }
    let byName = this.options.get(module);
    if (!byName) this.options.set(module, (byName = new Map()));
    const map = pick(byName, name, negated);
    const known = map.get(value);
    if (known) return known;
    const part: MatchPart = { kind: 'option', module, name, negated, args: Object.freeze([value]) as unknown as string[] };
    if (map.size < INTERN_CAP) map.set(value, Object.freeze(part));
    return part;
  }

  /** An option-less `-j`/`-g` target, as `target(...)` would give. */
  jump(name: string, goto: boolean): Target {
    const map = this.jumps[goto ? 1 : 0] as Map<string, Target>;
    const known = map.get(name);
    if (known) return known;
    const fresh: Target = { name, goto, options: NO_OPTIONS };
    if (map.size < INTERN_CAP) map.set(name, Object.freeze(fresh));
    return fresh;
  }

  target(target: Target): Target {
    if (target.options.length > 0) return { name: target.name, goto: target.goto, options: target.options.slice() };
    const map = this.jumps[target.goto ? 1 : 0] as Map<string, Target>;
    const known = map.get(target.name);
    if (known) return known;
    const fresh: Target = { name: target.name, goto: target.goto, options: NO_OPTIONS };
    if (map.size < INTERN_CAP) map.set(target.name, Object.freeze(fresh));
    return fresh;
  }
}

/** The options of every option-less interned target: one frozen empty array rather than one per target. */
const NO_OPTIONS = Object.freeze([]) as unknown as TargetOption[];

/** Entries per intern map: enough for every verdict, module, port and CIDR a node repeats. */
const INTERN_CAP = 512;

/** The map for (key, negated) in a two-level table, created on first use. */
function pick<V>(table: Map<string, Array<Map<string, V>>>, key: string, negated: boolean): Map<string, V> {
  let pair = table.get(key);
  if (!pair) table.set(key, (pair = [new Map(), new Map()]));
  return pair[negated ? 1 : 0] as Map<string, V>;
}
