/**
 * Each match and target on tiny hand-made rulesets (built with ruleFromArgs, as kube-proxy builds rules).
 */
import { describe, expect, it } from 'vitest';
import { ruleFromArgs } from '../src/ir/args.js';
import { BUILTIN_CHAINS, type IptablesRuleset, type Table } from '../src/ir/iptables.js';
import { resolveNodeConfig } from '../src/model/node-config.js';
import { buildNode } from '../src/emulate/node.js';
import type { PacketSpec } from '../src/emulate/packet.js';
import { mulberry32 } from '../src/emulate/rng.js';
import { compileRuleset } from '../src/emulate/ruleset.js';
import { commitEffects, emptyState, type EmulatorState } from '../src/emulate/state.js';
import { createEmulator, tracePacket, type Emulator, type TraceDetail } from '../src/emulate/trace.js';
import { chiSquareTest } from '../src/lab/stats.js';

const config = resolveNodeConfig({
  nodeName: 'node-1',
  nodeIP: '192.168.0.2',
  nodeIPs: ['192.168.0.2'],
  clusterCIDR: '10.244.0.0/16',
  interfaces: { lo: ['127.0.0.1/8'], eth0: ['192.168.0.2/24'], cni0: ['10.244.1.1/24'] },
});

type Spec = Record<string, Record<string, string[][]>>;

/** table → chain → rules (argument vectors); built-in chains are declared with ACCEPT unless `policies` says DROP. */
function ruleset(spec: Spec, policies: Record<string, string> = {}): IptablesRuleset {
  const tables: Table[] = [];
  for (const [name, chains] of Object.entries(spec)) {
    const builtin = BUILTIN_CHAINS[name] ?? [];
    const decls = builtin.map((c) => ({ name: c, policy: policies[`${name}/${c}`] ?? 'ACCEPT' }));
    for (const c of Object.keys(chains)) if (!builtin.includes(c)) decls.push({ name: c, policy: undefined as unknown as string });
    const rules = Object.entries(chains).flatMap(([chain, list]) => list.map((args) => ruleFromArgs(chain, args)));
    tables.push({ name, chains: decls.map((d) => (d.policy ? d : { name: d.name })), rules, deletedChains: [] });
  }
  return { family: 4, tables };
}

function emulator(spec: Spec, policies?: Record<string, string>): Emulator {
  return createEmulator(compileRuleset(ruleset(spec, policies)), buildNode(config));
}

const tcp = (source: string, destination: string, destinationPort = 80, extra: Partial<PacketSpec> = {}): PacketSpec => ({
  protocol: 'tcp',
  source,
  destination,
  destinationPort,
  ...extra,
});

/** Verdict of a one-rule filter FORWARD chain for a forwarded packet. */
function forwardVerdict(args: string[], packet: PacketSpec): string | null {
  const emu = emulator({ filter: { FORWARD: [[...args, '-j', 'DROP']] } });
  return tracePacket(emu, packet).trace.outcomes[0]?.filterVerdict ?? null;
}
const matches = (args: string[], packet: PacketSpec) => forwardVerdict(args, packet) === 'DROP';
const POD = '10.244.1.7';
const FAR = '10.244.2.9';

describe('matches', () => {
  it('-s / -d with CIDRs, dotted masks and negation', () => {
    expect(matches(['-s', '10.244.0.0/16'], tcp(POD, FAR))).toBe(true);
    expect(matches(['!', '-s', '10.244.0.0/16'], tcp(POD, FAR))).toBe(false);
    expect(matches(['-s', '10.244.1.0/255.255.255.0'], tcp(POD, FAR))).toBe(true);
    expect(matches(['-d', '10.244.2.9'], tcp(POD, FAR))).toBe(true);
    expect(matches(['-d', '10.244.2.9/32'], tcp(POD, '10.244.2.8'))).toBe(false);
  });

  it('-p, --dport/--sport (ranges), multiport', () => {
    expect(matches(['-p', 'tcp', '--dport', '80'], tcp(POD, FAR))).toBe(true);
    expect(matches(['-p', 'udp', '--dport', '80'], tcp(POD, FAR))).toBe(false);
    expect(matches(['-p', '6'], tcp(POD, FAR))).toBe(true);
    expect(matches(['-p', 'all'], tcp(POD, FAR))).toBe(true);
    expect(matches(['-p', 'tcp', '-m', 'tcp', '--dport', '70:90'], tcp(POD, FAR))).toBe(true);
    expect(matches(['-p', 'tcp', '-m', 'tcp', '!', '--dport', '70:90'], tcp(POD, FAR))).toBe(false);
    expect(matches(['-p', 'tcp', '--sport', '40000'], tcp(POD, FAR))).toBe(true);
    expect(matches(['-p', 'tcp', '-m', 'multiport', '--dports', '22,443,8000:9000'], tcp(POD, FAR, 8080))).toBe(true);
    expect(matches(['-p', 'tcp', '-m', 'multiport', '--dports', '22,443'], tcp(POD, FAR, 80))).toBe(false);
    expect(matches(['-p', 'icmp', '--icmp-type', 'echo-request'], { protocol: 'icmp', source: POD, destination: FAR })).toBe(true);
  });

  it('-i / -o with wildcards', () => {
    expect(matches(['-i', 'cni0'], tcp(POD, FAR))).toBe(true);
    expect(matches(['-i', 'cni+'], tcp(POD, FAR))).toBe(true);
    expect(matches(['-i', 'eth0'], tcp(POD, FAR))).toBe(false);
    expect(matches(['-o', 'eth0'], tcp(POD, FAR))).toBe(true);
    expect(matches(['!', '-o', 'eth+'], tcp(POD, FAR))).toBe(false);
    expect(matches(['-i', 'eth0'], tcp('203.0.113.9', FAR))).toBe(true);
  });

  it('addrtype LOCAL', () => {
    const emu = emulator({ filter: { INPUT: [['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'ACCEPT']], FORWARD: [['-m', 'addrtype', '!', '--dst-type', 'LOCAL', '-j', 'REJECT']] } });
    expect(tracePacket(emu, tcp(POD, '192.168.0.2')).trace.outcomes[0]).toMatchObject({ filterVerdict: 'ACCEPT', result: 'local' });
    expect(tracePacket(emu, tcp(POD, '8.8.8.8')).trace.outcomes[0]).toMatchObject({ filterVerdict: 'REJECT', result: 'rejected' });
    expect(matches(['-m', 'addrtype', '--src-type', 'LOCAL'], tcp('127.0.0.5', FAR, 80, { origin: 'pod' }))).toBe(true);
  });

  it('comment and nfacct change nothing', () => {
    expect(matches(['-m', 'comment', '--comment', 'anything at all', '-m', 'nfacct', '--nfacct-name', 'x'], tcp(POD, FAR))).toBe(true);
  });

  it('conntrack --ctstate and state: NEW, DNAT, ESTABLISHED', () => {
    expect(matches(['-m', 'conntrack', '--ctstate', 'NEW'], tcp(POD, FAR))).toBe(true);
    expect(matches(['-m', 'state', '--state', 'ESTABLISHED,RELATED'], tcp(POD, FAR))).toBe(false);
    const emu = emulator({
      nat: { PREROUTING: [['-d', '10.96.0.1', '-p', 'tcp', '-j', 'DNAT', '--to-destination', '10.244.2.9:8080']] },
      filter: { FORWARD: [['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'conntrack', '--ctstate', 'DNAT', '-j', 'ACCEPT'], ['-m', 'conntrack', '--ctstate', 'ESTABLISHED', '-j', 'REJECT']] },
    });
    const state = emptyState();
    const first = tracePacket(emu, tcp(POD, '10.96.0.1'), { state });
    expect(first.trace.outcomes[0]).toMatchObject({ filterVerdict: 'ACCEPT', dnat: '10.244.2.9:8080' });
    commitEffects(state, (first.paths[0] as TraceDetail['paths'][number]).effects, 0);
    const second = tracePacket(emu, tcp(POD, '10.96.0.1'), { state, now: 1 });
    // Same connection: nat is not consulted again, the DNAT is reused, and the state is ESTABLISHED.
    expect(second.trace.outcomes[0]).toMatchObject({ filterVerdict: 'REJECT', dnat: null, finalDestination: '10.244.2.9:8080' });
    expect(second.trace.outcomes[0]?.hops.some((h) => h.table === 'nat')).toBe(false);
  });

  it('mark and the MARK target variants', () => {
    const run = (markArgs: string[], check: string) => {
      const emu = emulator({ mangle: { PREROUTING: [['-j', 'MARK', '--set-mark', '0xff00'], ['-j', 'MARK', ...markArgs]] }, filter: { FORWARD: [['-m', 'mark', '--mark', check, '-j', 'DROP']] } });
      return tracePacket(emu, tcp(POD, FAR)).trace.outcomes[0]?.filterVerdict === 'DROP';
    };
    expect(run(['--or-mark', '0x4000'], '0xff00/0xff00')).toBe(true);
    expect(run(['--or-mark', '0x4000'], '0x4000/0x4000')).toBe(true);
    expect(run(['--xor-mark', '0x0100'], '0xfe00')).toBe(true);
    expect(run(['--set-xmark', '0x1/0xffff'], '0x1')).toBe(true);
    expect(run(['--set-mark', '0x2/0xff'], '0xff02')).toBe(true);
    expect(run(['--and-mark', '0x0f00'], '0x0f00')).toBe(true);
    expect(run(['--and-mark', '0x0f00'], '0xff00')).toBe(false);
  });

  it('statistic --mode random is enumerated with exact probabilities', () => {
    const emu = emulator({
      nat: {
        PREROUTING: [['-d', '10.96.0.1', '-j', 'SVC']],
        SVC: [
          ['-m', 'statistic', '--mode', 'random', '--probability', '0.3333333333', '-j', 'DNAT', '--to-destination', '10.244.2.1'],
          ['-m', 'statistic', '--mode', 'random', '--probability', '0.5000000000', '-j', 'DNAT', '--to-destination', '10.244.2.2'],
          ['-j', 'DNAT', '--to-destination', '10.244.2.3'],
        ],
      },
    });
    const outcomes = tracePacket(emu, tcp(POD, '10.96.0.1')).trace.outcomes;
    expect(outcomes.map((o) => o.dnat)).toEqual(['10.244.2.1:80', '10.244.2.2:80', '10.244.2.3:80']);
    const ps = outcomes.map((o) => o.probability);
    expect(ps[0]).toBeCloseTo(1 / 3, 9);
    expect(ps[1]).toBeCloseTo(1 / 3, 9);
    expect(ps[2]).toBeCloseTo(1 / 3, 9);
    expect(ps.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
  });

  it('statistic --mode nth counts packets across a scenario', () => {
    const emu = emulator({ filter: { FORWARD: [['-m', 'statistic', '--mode', 'nth', '--every', '3', '--packet', '0', '-j', 'DROP']] } });
    const state = emptyState();
    const verdicts: (string | null)[] = [];
    for (let i = 0; i < 6; i++) {
      const d = tracePacket(emu, tcp(POD, FAR, 80, { sourcePort: 40000 + i }), { state, now: i });
      verdicts.push(d.trace.outcomes[0]?.filterVerdict ?? null);
      commitEffects(state, (d.paths[0] as TraceDetail['paths'][number]).effects, i);
    }
    expect(verdicts).toEqual([null, null, 'DROP', null, null, 'DROP']);
  });

  it('recent: --set, --rcheck with --seconds and --reap, --update, --remove, --rdest, --mask', () => {
    const emu = emulator({
      filter: {
        FORWARD: [
          ['-p', 'tcp', '--dport', '1', '-m', 'recent', '--name', 'L', '--set', '-j', 'ACCEPT'],
          ['-p', 'tcp', '--dport', '2', '-m', 'recent', '--name', 'L', '--rcheck', '--seconds', '10', '--reap', '-j', 'DROP'],
          ['-p', 'tcp', '--dport', '3', '-m', 'recent', '--name', 'L', '--update', '--seconds', '10', '-j', 'DROP'],
          ['-p', 'tcp', '--dport', '4', '-m', 'recent', '--name', 'L', '--remove', '-j', 'ACCEPT'],
          ['-p', 'tcp', '--dport', '5', '-m', 'recent', '--name', 'L', '--rcheck', '--mask', '255.255.255.0', '-j', 'DROP'],
          ['-p', 'tcp', '--dport', '6', '-m', 'recent', '--name', 'L', '--rcheck', '--rdest', '-j', 'DROP'],
        ],
      },
    });
    const state: EmulatorState = emptyState();
    const send = (port: number, now: number, src = POD) => {
      const d = tracePacket(emu, tcp(src, FAR, port, { sourcePort: 30000 + now * 10 + port }), { state, now });
      commitEffects(state, (d.paths[0] as TraceDetail['paths'][number]).effects, now);
      return d.trace.outcomes[0]?.filterVerdict ?? null;
    };
    expect(send(2, 0)).toBeNull(); // not in the list yet
    expect(send(1, 0)).toBe('ACCEPT'); // --set
    expect(send(2, 10)).toBe('DROP'); // seen 10 s ago: within --seconds 10
    expect(send(2, 11)).toBeNull(); // 11 s: expired (and reaped)
    expect(send(1, 20)).toBe('ACCEPT');
    expect(send(3, 25)).toBe('DROP'); // --update refreshes the stamp to 25
    expect(send(3, 34)).toBe('DROP'); // 9 s after the refresh
    expect(send(5, 35, '10.244.1.99')).toBeNull(); // --mask only applies to this rule's lookup key
    expect(send(6, 35)).toBeNull(); // --rdest looks up the destination, which was never set
    expect(send(4, 36)).toBe('ACCEPT'); // --remove
    expect(send(3, 37)).toBeNull();
  });
});

describe('targets', () => {
  it('jump returns, goto does not, RETURN, LOG continues, ACCEPT ends only the table', () => {
    const emu = emulator({
      filter: {
        FORWARD: [['-j', 'A'], ['-g', 'C'], ['-j', 'DROP']],
        A: [['-j', 'LOG', '--log-prefix', 'seen: '], ['-j', 'RETURN'], ['-j', 'DROP']],
        C: [['-j', 'ACCEPT']],
      },
      mangle: { POSTROUTING: [['-j', 'MARK', '--set-mark', '0x1']] },
    });
    const o = tracePacket(emu, tcp(POD, FAR)).trace.outcomes[0];
    expect(o).toMatchObject({ filterVerdict: 'ACCEPT', result: 'forwarded' });
    expect(o?.hops.map((h) => `${h.chain}#${h.rule}`)).toEqual(['FORWARD#1', 'A#1', 'A#2', 'FORWARD#2', 'C#1', 'POSTROUTING#1']);
  });

  it('goto from a chain returns to the caller of that chain', () => {
    const emu = emulator({ filter: { FORWARD: [['-j', 'A'], ['-j', 'REJECT']], A: [['-g', 'B'], ['-j', 'DROP']], B: [] } });
    expect(tracePacket(emu, tcp(POD, FAR)).trace.outcomes[0]?.filterVerdict).toBe('REJECT');
  });

  it('DROP, REJECT (with its type) and chain policies', () => {
    const rej = emulator({ filter: { FORWARD: [['-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset']] } });
    const d = tracePacket(rej, tcp(POD, FAR));
    expect(d.trace.outcomes[0]).toMatchObject({ filterVerdict: 'REJECT', result: 'rejected' });
    expect(d.paths[0]?.rejectWith).toBe('tcp-reset');
    const pol = emulator({ filter: { FORWARD: [['-s', '1.1.1.1', '-j', 'ACCEPT']] } }, { 'filter/FORWARD': 'DROP' });
    // A policy is not a rule's verdict: filterVerdict stays null.
    expect(tracePacket(pol, tcp(POD, FAR)).trace.outcomes[0]).toMatchObject({ filterVerdict: null, result: 'dropped' });
  });

  it('DNAT, SNAT and MASQUERADE rewrite the packet', () => {
    const emu = emulator({
      nat: {
        PREROUTING: [['-d', '10.96.0.1', '-p', 'tcp', '-j', 'DNAT', '--to-destination', '10.244.2.9:8080']],
        POSTROUTING: [['-d', '10.244.2.9', '-j', 'MASQUERADE'], ['-j', 'SNAT', '--to-source', '192.168.0.99']],
      },
    });
    expect(tracePacket(emu, tcp(POD, '10.96.0.1')).trace.outcomes[0]).toMatchObject({
      dnat: '10.244.2.9:8080',
      masquerade: true,
      finalSource: '192.168.0.2',
      finalDestination: '10.244.2.9:8080',
      result: 'forwarded',
    });
    expect(tracePacket(emu, tcp(POD, '8.8.8.8')).trace.outcomes[0]).toMatchObject({ dnat: null, masquerade: true, finalSource: '192.168.0.99' });
  });

  it('an unknown module is reported and makes the outcome uncertain; a known failing condition does not', () => {
    const emu = emulator({ filter: { FORWARD: [['-m', 'physdev', '--physdev-is-bridged', '-j', 'DROP'], ['-p', 'udp', '-m', 'set', '--match-set', 'x', 'src', '-j', 'DROP']] } });
    const o = tracePacket(emu, tcp(POD, FAR)).trace.outcomes[0];
    expect(o?.uncertain).toBe(true);
    expect(o?.unsupported).toEqual(['filter FORWARD #1: -m physdev --physdev-is-bridged']);
    expect(o?.hops[0]?.reason).toMatch(/cannot evaluate/);
    expect(o?.hops[1]?.reason).toMatch(/protocol is tcp/);
  });

  it('an unknown target is reported', () => {
    const emu = emulator({ filter: { FORWARD: [['-j', 'CONNMARK', '--save-mark']] } });
    const o = tracePacket(emu, tcp(POD, FAR)).trace.outcomes[0];
    expect(o).toMatchObject({ uncertain: true, result: 'forwarded' });
  });

  it('NOTRACK skips conntrack and NAT', () => {
    const emu = emulator({ raw: { PREROUTING: [['-j', 'NOTRACK']] }, nat: { PREROUTING: [['-j', 'DNAT', '--to-destination', '10.244.2.1']] }, filter: { FORWARD: [['-m', 'conntrack', '--ctstate', 'UNTRACKED', '-j', 'ACCEPT']] } });
    expect(tracePacket(emu, tcp(POD, FAR)).trace.outcomes[0]).toMatchObject({ dnat: null, filterVerdict: 'ACCEPT' });
  });
});

describe('sampling', () => {
  it('seeded sampling agrees with enumeration (chi-square)', () => {
    const emu = emulator({
      nat: {
        PREROUTING: [['-d', '10.96.0.1', '-j', 'SVC']],
        SVC: [
          ['-m', 'statistic', '--mode', 'random', '--probability', '0.2500000000', '-j', 'DNAT', '--to-destination', '10.244.2.1'],
          ['-m', 'statistic', '--mode', 'random', '--probability', '0.3333333333', '-j', 'DNAT', '--to-destination', '10.244.2.2'],
          ['-m', 'statistic', '--mode', 'random', '--probability', '0.5000000000', '-j', 'DNAT', '--to-destination', '10.244.2.3'],
          ['-j', 'DNAT', '--to-destination', '10.244.2.4'],
        ],
      },
    });
    const expected = new Map(tracePacket(emu, tcp(POD, '10.96.0.1')).trace.outcomes.map((o) => [o.dnat, o.probability]));
    const rng = mulberry32(42);
    const counts = new Map<string | null, number>();
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const o = tracePacket(emu, tcp(POD, '10.96.0.1'), { rng }).trace.outcomes;
      expect(o).toHaveLength(1);
      counts.set(o[0]?.dnat ?? null, (counts.get(o[0]?.dnat ?? null) ?? 0) + 1);
    }
    const destinations = [...expected.keys()];
    const test = chiSquareTest(destinations.map((d) => counts.get(d) ?? 0), destinations.map((d) => expected.get(d) as number));
    expect(test.degreesOfFreedom).toBe(3);
    expect(test.p).toBeGreaterThan(0.001);
    expect([...counts.keys()].sort()).toEqual([...expected.keys()].sort());
  });
});

describe('IPv6', () => {
  it('matches, DNAT with brackets, LOCAL ::1 and node addresses', () => {
    const v6 = resolveNodeConfig({ ipFamily: 6, nodeName: 'node-1', nodeIP: '2001:db8::2', nodeIPs: ['2001:db8::2'], clusterCIDR: 'fd00:10:244::/56', interfaces: { lo: ['::1/128'], eth0: ['2001:db8::2/64'] } });
    const rs = ruleset({
      nat: {
        PREROUTING: [['-j', 'KUBE-SERVICES']],
        'KUBE-SERVICES': [
          ['-m', 'tcp', '-p', 'tcp', '-d', 'fd00:96::10', '--dport', '80', '-j', 'DNAT', '--to-destination', '[fd00:10:244:1::5]:8080'],
          ['-m', 'addrtype', '--dst-type', 'LOCAL', '!', '-d', '::1/128', '-j', 'KUBE-NODEPORTS'],
        ],
        'KUBE-NODEPORTS': [['-m', 'tcp', '-p', 'tcp', '--dport', '30080', '-j', 'DNAT', '--to-destination', '[fd00:10:244:1::6]:8080']],
      },
    });
    const emu = createEmulator(compileRuleset({ ...rs, family: 6 }), buildNode(v6));
    expect(tracePacket(emu, tcp('fd00:10:244:1::9', 'fd00:96::10')).trace.outcomes[0]).toMatchObject({ dnat: '[fd00:10:244:1::5]:8080', finalDestination: '[fd00:10:244:1::5]:8080' });
    expect(tracePacket(emu, tcp('2001:db8::99', '2001:db8::2', 30080)).trace.outcomes[0]?.dnat).toBe('[fd00:10:244:1::6]:8080');
    expect(tracePacket(emu, tcp('::1', '::1', 30080)).trace.outcomes[0]).toMatchObject({ dnat: null, result: 'local' });
  });
});

describe('origins and routes', () => {
  it('the origin comes from the source address and can be overridden', () => {
    const emu = emulator({ filter: { INPUT: [['-i', 'eth0', '-j', 'ACCEPT'], ['-i', 'cni0', '-j', 'DROP']] } });
    expect(tracePacket(emu, tcp(POD, '192.168.0.2')).origin).toBe('pod');
    expect(tracePacket(emu, tcp('192.168.0.2', '192.168.0.2')).origin).toBe('node');
    expect(tracePacket(emu, tcp('198.51.100.1', '192.168.0.2')).origin).toBe('external');
    expect(tracePacket(emu, tcp(POD, '192.168.0.2')).trace.outcomes[0]?.filterVerdict).toBe('DROP');
    const forced = tracePacket(emu, tcp(POD, '192.168.0.2', 80, { origin: 'external' }));
    expect(forced.trace.packet.origin).toBe('external');
    expect(forced.trace.outcomes[0]?.filterVerdict).toBe('ACCEPT');
  });

  it('a node without a route out: connect() fails before any hook', () => {
    const lonely = resolveNodeConfig({ nodeName: 'n', nodeIP: '192.168.0.2', nodeIPs: ['192.168.0.2'], interfaces: { lo: ['127.0.0.1/8'] } });
    const emu = createEmulator(compileRuleset(ruleset({ filter: { OUTPUT: [['-j', 'DROP']] } })), buildNode(lonely));
    const d = tracePacket(emu, tcp('192.168.0.2', '8.8.8.8'));
    expect(d.trace.outcomes[0]).toMatchObject({ result: 'unreachable', hops: [] });
    expect(d.paths[0]?.endReason).toMatch(/Network is unreachable/);
  });

  it('a node sending to its own address loops back through lo into INPUT', () => {
    const emu = emulator({ filter: { OUTPUT: [['-o', 'lo', '-j', 'ACCEPT']], INPUT: [['-i', 'lo', '-j', 'REJECT']] } });
    const o = tracePacket(emu, tcp('192.168.0.2', '192.168.0.2')).trace.outcomes[0];
    expect(o?.hops.map((h) => `${h.hook}/${h.chain}`)).toEqual(['output/OUTPUT', 'input/INPUT']);
    expect(o).toMatchObject({ filterVerdict: 'ACCEPT', result: 'rejected' });
  });
});
