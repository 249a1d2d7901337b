import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ruleFromArgs } from '../src/ir/args.js';
import type { IptablesRuleset, Rule, Table } from '../src/ir/iptables.js';
import { parseIptables } from '../src/parse/iptables.js';
import { renderSave, saveRuleLines, savedProbability, TailCache } from '../src/render/save.js';
import { conformancePath } from './helpers.js';

const caseDir = 'iptables/overall-iptables-rules';
const read = (relative: string): string => readFileSync(conformancePath(`${caseDir}/${relative}`), 'utf8');

/** kube-proxy's base-chain jumps (spec §9), in its list order; each is inserted at position 1. */
const BASE_JUMPS: Array<[table: string, from: string, to: string, extra: string[], comment?: string]> = [
  ['filter', 'INPUT', 'KUBE-EXTERNAL-SERVICES', ['-m', 'conntrack', '--ctstate', 'NEW'], 'kubernetes externally-visible service portals'],
  ['filter', 'FORWARD', 'KUBE-EXTERNAL-SERVICES', ['-m', 'conntrack', '--ctstate', 'NEW'], 'kubernetes externally-visible service portals'],
  ['filter', 'INPUT', 'KUBE-NODEPORTS', [], 'kubernetes health check service ports'],
  ['filter', 'FORWARD', 'KUBE-SERVICES', ['-m', 'conntrack', '--ctstate', 'NEW'], 'kubernetes service portals'],
  ['filter', 'OUTPUT', 'KUBE-SERVICES', ['-m', 'conntrack', '--ctstate', 'NEW'], 'kubernetes service portals'],
  ['filter', 'FORWARD', 'KUBE-FORWARD', [], 'kubernetes forwarding rules'],
  ['filter', 'INPUT', 'KUBE-PROXY-FIREWALL', ['-m', 'conntrack', '--ctstate', 'NEW'], 'kubernetes load balancer firewall'],
  ['filter', 'OUTPUT', 'KUBE-PROXY-FIREWALL', ['-m', 'conntrack', '--ctstate', 'NEW'], 'kubernetes load balancer firewall'],
  ['filter', 'FORWARD', 'KUBE-PROXY-FIREWALL', ['-m', 'conntrack', '--ctstate', 'NEW'], 'kubernetes load balancer firewall'],
  ['nat', 'OUTPUT', 'KUBE-SERVICES', [], 'kubernetes service portals'],
  ['nat', 'PREROUTING', 'KUBE-SERVICES', [], 'kubernetes service portals'],
  ['nat', 'POSTROUTING', 'KUBE-POSTROUTING', [], 'kubernetes postrouting rules'],
  ['filter', 'INPUT', 'KUBE-FIREWALL', []],
  ['filter', 'OUTPUT', 'KUBE-FIREWALL', []],
];

/** The node after kube-proxy's first sync, as rendered/README.md describes it. */
function nodeState(payload: IptablesRuleset): IptablesRuleset {
  const tables = new Map<string, Table>();
  for (const name of ['mangle', 'nat', 'filter']) {
    tables.set(name, { name, chains: [{ name: 'KUBE-PROXY-CANARY' }], rules: [], deletedChains: [] });
  }
  for (const [table, from, to, extra, comment] of BASE_JUMPS) {
    const t = tables.get(table) as Table;
    if (!t.chains.some((c) => c.name === to)) t.chains.push({ name: to });
    const args = [...extra, ...(comment === undefined ? [] : ['-m', 'comment', '--comment', comment]), '-j', to];
    t.rules.unshift(ruleFromArgs(from, args));
  }
  for (const source of payload.tables) {
    const t = tables.get(source.name) as Table;
    for (const chain of source.chains) if (!t.chains.some((c) => c.name === chain.name)) t.chains.push(chain);
    t.rules.push(...source.rules);
  }
  return { family: payload.family, tables: [...tables.values()] };
}

function loadedPayload(): IptablesRuleset {
  // xt_nfacct refuses rules whose object does not exist, so the rendering was made without them.
  const text = read('expected.iptables').replace(/ -m nfacct --nfacct-name \S+/g, '');
  const { ruleset, diagnostics } = parseIptables(text, 'expected.iptables');
  expect(diagnostics).toEqual([]);
  return ruleset;
}

describe('renderSave against real iptables-save 1.8.9 output', () => {
  for (const backend of ['legacy', 'nft'] as const) {
    const file = `rendered/iptables-save.${backend}.txt`;
    it(`${backend}: payload + base-chain jumps + canaries`, () => {
      expect(renderSave(nodeState(loadedPayload()), { backend })).toBe(read(file));
    });

    it(`${backend}: parse → renderSave is the identity on the real dump`, () => {
      const text = read(file);
      const { ruleset, diagnostics } = parseIptables(text, file);
      expect(diagnostics).toEqual([]);
      expect(renderSave(ruleset, { backend })).toBe(text);
    });
  }

  it('renderSave ∘ parse ∘ renderSave is stable', () => {
    const once = renderSave(nodeState(loadedPayload()), { backend: 'nft', date: 'Thu Jan  1 00:00:00 1970' });
    const again = renderSave(parseIptables(once, 'once').ruleset, { backend: 'nft', date: 'Thu Jan  1 00:00:00 1970' });
    expect(again).toBe(once);
  });
});

/** The saved line of one rule written as kube-proxy would write it. */
function saved(args: string, family: 4 | 6 = 4): string {
  const words = parseIptables(`*filter\n:X - [0:0]\n-A X ${args}\nCOMMIT\n`, 'x', family);
  expect(words.diagnostics).toEqual([]);
  const rule = words.ruleset.tables[0]?.rules[0] as Rule;
  return saveRuleLines(rule, family).join('\n').replace(/^-A X ?/, '');
}

describe('saveRuleLines: per-field normalization', () => {
  const cases: Array<[string, string, (4 | 6)?]> = [
    ['-m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
      '! -s 10.0.0.0/8 -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ'],
    ['-m comment --comment plain_name-1 -j ACCEPT', '-m comment --comment plain_name-1 -j ACCEPT'],
    ["-m comment --comment \"it's a \\\"q\\\" \\\\\" -j ACCEPT", "-m comment --comment \"it\\'s a \\\"q\\\" \\\\\" -j ACCEPT"],
    ['-p tcp --dport 80 -j ACCEPT', '-p tcp -m tcp --dport 80 -j ACCEPT'],
    ['-p tcp -m comment --comment x --dport 80 -j ACCEPT', '-p tcp -m comment --comment x -m tcp --dport 80 -j ACCEPT'],
    ['-p udp -m udp --sport 53 ! --dport 1000:2000 -j ACCEPT', '-p udp -m udp --sport 53 ! --dport 1000:2000 -j ACCEPT'],
    ['-p TCP -m tcp --dport 0:65535 -j ACCEPT', '-p tcp -m tcp -j ACCEPT'],
    ['-p 6 -m tcp --syn -j ACCEPT', '-p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j ACCEPT'],
    ['-p all -s 0.0.0.0/0 -d 10.1.2.3/8 -j ACCEPT', '-d 10.0.0.0/8 -j ACCEPT'],
    ['-s 10.0.0.0/255.255.0.0 -j ACCEPT', '-s 10.0.0.0/16 -j ACCEPT'],
    ['-s 1.1.1.1,2.2.2.2 -d 3.3.3.3 -j ACCEPT', '-s 1.1.1.1/32 -d 3.3.3.3/32 -j ACCEPT\n-A X -s 2.2.2.2/32 -d 3.3.3.3/32 -j ACCEPT'],
    ['-i eth0 ! -o lo+ -j ACCEPT', '-i eth0 ! -o lo+ -j ACCEPT'],
    ['-m mark ! --mark 0x00004000/0x00004000 -j RETURN', '-m mark ! --mark 0x4000/0x4000 -j RETURN'],
    ['-m mark --mark 16384 -j RETURN', '-m mark --mark 0x4000 -j RETURN'],
    ['-j MARK --or-mark 0x00004000', '-j MARK --set-xmark 0x4000/0x4000'],
    ['-j MARK --xor-mark 0x4000', '-j MARK --set-xmark 0x4000/0x0'],
    ['-j MARK --set-mark 0x1', '-j MARK --set-xmark 0x1/0xffffffff'],
    ['-j MARK --and-mark 0xffff0000', '-j MARK --set-xmark 0x0/0xffff'],
    ['-j REJECT', '-j REJECT --reject-with icmp-port-unreachable'],
    ['-j REJECT --reject-with tcp-rst', '-j REJECT --reject-with tcp-reset'],
    ['-d fd00::1 -j REJECT', '-d fd00::1/128 -j REJECT --reject-with icmp6-port-unreachable', 6],
    ['-m conntrack ! --ctstate DNAT,ESTABLISHED,RELATED -j DROP', '-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP'],
    ['-m state --state established,new -j ACCEPT', '-m state --state NEW,ESTABLISHED -j ACCEPT'],
    ['-m addrtype --dst-type local -j X', '-m addrtype --dst-type LOCAL -j X'],
    ['-m statistic --mode random --probability 0.3333333333 -j X', '-m statistic --mode random --probability 0.33333333349 -j X'],
    ['-m statistic --mode nth --every 3 -j X', '-m statistic --mode nth --every 3 --packet 0 -j X'],
    ['-m recent --name KUBE-SEP-A --rcheck --seconds 10800 --reap -j X',
      '-m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-A --mask 255.255.255.255 --rsource -j X'],
    ['-m recent --name A --set -j X', '-m recent --set --name A --mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff --rsource -j X', 6],
    ['-p tcp -m multiport --destination-ports 80,8000:8080 -j X', '-p tcp -m multiport --dports 80,8000:8080 -j X'],
    ['-m nfacct --nfacct-name localhost_nps_accepted_pkts -j X', '-m nfacct --nfacct-name localhost_nps_accepted_pkts -j X'],
    ['-p icmp -m icmp --icmp-type echo-request -j ACCEPT', '-p icmp -m icmp --icmp-type 8 -j ACCEPT'],
    ['-m comment --comment "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"',
      '-m comment --comment "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"'],
    ['-p tcp -j DNAT --to-destination 10.180.0.1:80', '-p tcp -j DNAT --to-destination 10.180.0.1:80'],
    ['-j MASQUERADE --random-fully', '-j MASQUERADE --random-fully'],
    ['-m socket --transparent -j ACCEPT', '-m socket --transparent -j ACCEPT'],
    ['-g KUBE-X', '-g KUBE-X'],
  ];
  for (const [input, expected, family] of cases) {
    it(input, () => expect(saved(input, family)).toBe(expected));
  }
});

describe('savedProbability', () => {
  // Spec §4.4 table: kube-proxy payload value → what iptables-save prints.
  const table: Array<[number, string]> = [
    [1, '1.00000000000'], [2, '0.50000000000'], [3, '0.33333333349'], [4, '0.25000000000'], [5, '0.20000000019'],
    [6, '0.16666666651'], [7, '0.14285714272'], [8, '0.12500000000'], [9, '0.11111111101'], [10, '0.10000000009'],
    [100, '0.00999999978'], [1000, '0.00100000016'],
  ];
  for (const [k, expected] of table) {
    it(`1/${k}`, () => expect(savedProbability(Number((1 / k).toFixed(10)))).toBe(expected));
  }
});

describe('the per-render cache of shared parts', () => {
  it('prints every rule of every golden exactly as printing it afresh does', () => {
    const goldens = readdirSync('golden/iptables').map((name) => `golden/iptables/${name}/save.iptables`);
    expect(goldens.length).toBeGreaterThan(5);
    for (const file of goldens) {
      const { ruleset, diagnostics } = parseIptables(readFileSync(file, 'utf8'), file);
      expect(diagnostics).toEqual([]);
      const tails = new TailCache();
      // Twice through the same cache: the second pass is served from it.
      for (const pass of [1, 2]) {
        for (const table of ruleset.tables) {
          for (const rule of table.rules) {
            expect(saveRuleLines(rule, ruleset.family, tails), `${file} pass ${pass}`).toEqual(saveRuleLines(rule, ruleset.family));
          }
        }
      }
    }
  });
});
