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

const BASIC_FLAGS: Readonly<Record<string, 'source' | 'destination' | 'protocol' | 'inInterface' | 'outInterface'>> = {
  '-s': 'source', '--source': 'source', '--src': 'source',
  '-d': 'destination', '--destination': 'destination', '--dst': 'destination',
  '-p': 'protocol', '--protocol': 'protocol',
  '-i': 'inInterface', '--in-interface': 'inInterface',
  '-o': 'outInterface', '--out-interface': 'outInterface',
};

/** On failure, `index` is the position in `args` of the word at fault (args.length when a word is missing). */
export type ArgsResult =
  | { ok: true; parts: MatchPart[]; target?: Target }
  | { ok: false; message: string; index: number };

/**
 * Reads the words after `-A CHAIN` into match parts and a target. `from` skips leading words (a parser
 * passes its whole tokenized line); error indexes are positions in `args`.
 */
export function partsFromArgs(args: readonly string[], from = 0): ArgsResult {
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
      const options = readTargetOptions(args, i + 2);
      if (!options.ok) return options;
      return { ok: true, parts, target: { name, goto: word === '-g' || word === '--goto', options: options.options } };
    }
    const basic = Object.hasOwn(BASIC_FLAGS, word) ? BASIC_FLAGS[word] : undefined;
    if (basic) {
      const value = args[++i];
      if (value === undefined) return { ok: false, message: `${word} needs a value`, index: i };
      parts.push(basicPart(basic, negated, value));
      if (basic === 'protocol') modules.push(value.toLowerCase());
      negated = false;
      continue;
    }
    if (word === '-m' || word === '--match') {
      if (negated) return { ok: false, message: '"!" cannot negate -m', index: i };
      const name = args[++i];
      if (name === undefined || name.startsWith('-')) return { ok: false, message: '-m needs a module name', index: i };
      parts.push({ kind: 'module', name });
      modules.push(name);
      continue;
    }
    if (word.startsWith('--') && word.length > 2) {
      const name = word.slice(2);
      const module = ownerOf(name, modules);
      if (module === undefined) return { ok: false, message: `option ${word} belongs to no loaded match (missing -m?)`, index: i };
      const arity = FLAG_OPTIONS.has(name) ? 0 : TWO_ARG_OPTIONS.has(name) ? 2 : -1;
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
        const known = optionsOf(module)?.includes(name) ?? false;
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
      parts.push({ kind: 'option', module, name, negated, args: values.slice() });
      negated = false;
      continue;
    }
    return { ok: false, message: `unexpected word "${word}"`, index: i };
  }
  if (negated) return { ok: false, message: 'dangling "!"', index: args.length };
  return { ok: true, parts };
}

function basicPart(kind: (typeof BASIC_FLAGS)[string], negated: boolean, value: string): MatchPart {
  if (kind === 'protocol') return { kind, negated, protocol: value };
  if (kind === 'inInterface' || kind === 'outInterface') return { kind, negated, name: value };
  return { kind, negated, address: value };
}

/** The latest loaded module that knows the option; an unknown option goes to the latest unknown module. */
function ownerOf(option: string, modules: readonly string[]): string | undefined {
  for (let k = modules.length - 1; k >= 0; k--) {
    const module = modules[k] as string;
    if (optionsOf(module)?.includes(option)) return module;
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

/** Own properties only: a module named `constructor` must not find Object.prototype's. */
function optionsOf(module: string): readonly string[] | undefined {
  return Object.hasOwn(MODULE_OPTIONS, module) ? MODULE_OPTIONS[module] : undefined;
}

/** A word that starts the next flag rather than continuing a value list. */
function isFlag(word: string): boolean {
  return word === '!' || (word.length > 1 && word.startsWith('-'));
}

/** The argument vector of a rule's parts and target, in written order (no `-A CHAIN`). */
export function argsOfRule(rule: Pick<Rule, 'parts' | 'target'>): string[] {
  const args: string[] = [];
  for (const part of rule.parts) args.push(...argsOfPart(part));
  if (rule.target) args.push(...argsOfTarget(rule.target));
  return args;
}

export function argsOfPart(part: MatchPart): string[] {
  const not = 'negated' in part && part.negated ? ['!'] : [];
  switch (part.kind) {
    case 'source':
      return [...not, '-s', part.address];
    case 'destination':
      return [...not, '-d', part.address];
    case 'protocol':
      return [...not, '-p', part.protocol];
    case 'inInterface':
      return [...not, '-i', part.name];
    case 'outInterface':
      return [...not, '-o', part.name];
    case 'module':
      return ['-m', part.name];
    case 'option':
      return [...not, `--${part.name}`, ...part.args];
  }
}

export function argsOfTarget(target: Target): string[] {
  const args = [target.goto ? '-g' : '-j', target.name];
  for (const option of target.options) args.push(`--${option.name}`, ...option.args);
  return args;
}

/** Builds a rule from kube-proxy style arguments; a malformed vector is a bug in the caller. */
export function ruleFromArgs(chain: string, args: readonly string[]): Rule {
  const result = partsFromArgs(args);
  if (!result.ok) throw new Error(`internal: bad rule for ${chain}: ${result.message}: ${args.join(' ')}`);
  return result.target ? { chain, parts: result.parts, target: result.target } : { chain, parts: result.parts };
}
