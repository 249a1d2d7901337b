import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  markForBit,
  nodeConfigFromFlags,
  parseKubeProxyConfiguration,
  parseNodeConfig,
  resolveNodeConfig,
} from '../src/model/node-config.js';
import { conformancePath, repoRoot } from './helpers.js';

const codes = (r: { diagnostics: { code: string; line: number; col: number }[] }) =>
  r.diagnostics.map((d) => `${d.code}@${d.line}:${d.col}`);

describe('--node-config (conformance config.yaml format)', () => {
  const files = [
    ...['iptables', 'nftables'].flatMap((mode) => {
      const root = conformancePath(mode);
      return existsSync(root)
        ? readdirSync(root).map((c) => path.join(root, c, 'config.yaml')).filter((f) => existsSync(f))
        : [];
    }),
    ...(existsSync(path.join(repoRoot, 'rulesets'))
      ? readdirSync(path.join(repoRoot, 'rulesets')).map((d) => path.join(repoRoot, 'rulesets', d, 'node.yaml')).filter((f) => existsSync(f))
      : []),
  ];
  test.each(files)('%s parses without diagnostics', (file) => {
    const r = parseNodeConfig(readFileSync(file, 'utf8'), file);
    expect(r.diagnostics).toEqual([]);
  });

  test('the kube-proxy test settings resolve as written', () => {
    const file = conformancePath('iptables/overall-iptables-rules/config.yaml');
    if (!existsSync(file)) return;
    const c = resolveNodeConfig(parseNodeConfig(readFileSync(file, 'utf8'), file).layer);
    expect(c).toEqual({
      ipFamily: 4,
      nodeName: 'test-node',
      nodeIP: '192.168.0.2',
      nodeIPs: ['192.168.0.2', '192.168.1.2', '192.168.99.11', '2001:db8::1', '2001:db8:1::2'],
      interfaces: {
        lo: ['127.0.0.1/8', '::1/128'],
        eth0: ['192.168.0.2/24', '192.168.1.2/24', '192.168.99.11/24', '2001:db8::1/64', '2001:db8:1::2/64'],
      },
      localDetector: { mode: 'ClusterCIDR', clusterCIDR: '10.0.0.0/8' },
      clusterCIDR: '10.0.0.0/8',
      serviceCIDRs: [],
      masqueradeAll: false,
      masqueradeBit: 14,
      masqueradeMark: '0x4000',
      nodePortAddresses: [],
      localhostNodePorts: true,
      hasRandomFully: false,
      conntrackTCPLiberal: false,
      nfacctCounters: { ct_state_invalid_dropped_pkts: true, localhost_nps_accepted_pkts: true },
      syncPeriod: '0s',
    });
  });

  const cases: [string, string, string[]][] = [
    ['unknown key', 'nodeName: n\nnodeNmae: m\n', ['E_CONFIG_KEY@2:1']],
    ['unknown nested key', 'localDetector:\n  mode: ClusterCIDR\n  cidr: 10.0.0.0/8\n', ['E_CONFIG_KEY@3:3']],
    ['bad IP', 'nodeIP: 192.168.0.256\n', ['E_INVALID_IP@1:9']],
    ['bad CIDR in a list', 'nodePortAddresses:\n- 10.0.0.0/8\n- 10.0.0.1\n', ['E_INVALID_IP@3:3']],
    ['bad interface CIDR', 'interfaces:\n  eth0: [10.0.0.1/40]\n', ['E_INVALID_IP@2:10']],
    ['bad interface name', 'interfaces:\n  "eth 0": [10.0.0.1/24]\n', ['E_NAME@2:3']],
    ['bad family', 'ipFamily: v4\n', ['E_FIELD@1:11']],
    ['bad detector mode', 'localDetector:\n  mode: PodCIDR\n', ['E_FIELD@2:9']],
    ['bad mark', 'masqueradeMark: "4000"\n', ['E_FIELD@1:17']],
    ['bad bit', 'masqueradeBit: 32\n', ['E_FIELD@1:16']],
    ['bad duration', 'syncPeriod: 30\n', ['E_FIELD@1:13']],
    ['bad node name', 'nodeName: "Node 1"\n', ['E_NAME@1:11']],
    ['not a map', '- a\n', ['E_FIELD@1:1']],
    ['broken YAML', 'nodeName: [\n', ['E_YAML_SYNTAX@2:1']],
    ['empty', '# nothing\n', ['E_FIELD@1:1']],
  ];
  test.each(cases)('%s', (_name, text, expected) => {
    expect(codes(parseNodeConfig(text, 'node.yaml'))).toEqual(expected);
  });

  test('an unquoted mark keeps its spelling', () => {
    expect(parseNodeConfig('masqueradeMark: 0x00004000\n', 'n.yaml').layer.masqueradeMark).toBe('0x00004000');
    expect(parseNodeConfig('masqueradeMark: 0x4000\n', 'n.yaml').layer.masqueradeMark).toBe('0x4000');
  });
});

describe('defaults of a real kube-proxy', () => {
  test('nothing given', () => {
    expect(resolveNodeConfig()).toEqual({
      ipFamily: 4,
      nodeName: '',
      nodeIP: '',
      nodeIPs: [],
      interfaces: { lo: ['127.0.0.1/8', '::1/128'], eth0: [] },
      localDetector: { mode: 'None' },
      clusterCIDR: '',
      serviceCIDRs: [],
      masqueradeAll: false,
      masqueradeBit: 14,
      masqueradeMark: '0x00004000',
      nodePortAddresses: [],
      localhostNodePorts: true,
      hasRandomFully: true,
      conntrackTCPLiberal: false,
      nfacctCounters: { ct_state_invalid_dropped_pkts: true, localhost_nps_accepted_pkts: true },
      syncPeriod: '30s',
    });
  });

  test('node IPs, interfaces and the detector follow what is known', () => {
    const c = resolveNodeConfig({ nodeIP: '192.168.0.2', clusterCIDR: '10.244.0.0/16' });
    expect(c.nodeIPs).toEqual(['192.168.0.2']);
    expect(c.interfaces).toEqual({ lo: ['127.0.0.1/8', '::1/128'], eth0: ['192.168.0.2/32'] });
    expect(c.localDetector).toEqual({ mode: 'ClusterCIDR', clusterCIDR: '10.244.0.0/16' });
    const v6 = resolveNodeConfig({ ipFamily: 6, nodeIPs: ['192.168.0.2', '2001:db8::2'], clusterCIDR: '10.244.0.0/16,fd00:10::/48' });
    expect(v6.nodeIP).toBe('2001:db8::2');
    expect(v6.clusterCIDR).toBe('fd00:10::/48');
    expect(v6.interfaces.eth0).toEqual(['192.168.0.2/32', '2001:db8::2/128']);
  });

  test('the mark follows the bit unless a mark is given; later layers win', () => {
    expect(resolveNodeConfig({ masqueradeBit: 15 }).masqueradeMark).toBe(markForBit(15));
    expect(resolveNodeConfig({ masqueradeMark: '0x4000' }).masqueradeMark).toBe('0x4000');
    expect(resolveNodeConfig({ masqueradeMark: '0x4000' }, { masqueradeBit: 12 }).masqueradeMark).toBe('0x00001000');
    expect(resolveNodeConfig({ masqueradeBit: 12 }, { masqueradeMark: '0x4000' }).masqueradeMark).toBe('0x4000');
    expect(resolveNodeConfig({ nodeName: 'a', masqueradeAll: true }, { nodeName: 'b' })).toMatchObject({ nodeName: 'b', masqueradeAll: true });
  });

  test('nodePortAddresses "primary" means the node IPs', () => {
    expect(resolveNodeConfig({ nodeIP: '192.168.0.2', nodePortAddresses: ['primary'] }).nodePortAddresses).toEqual(['192.168.0.2/32']);
  });
});

describe('KubeProxyConfiguration', () => {
  const real = `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
bindAddress: 0.0.0.0
clientConnection:
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
clusterCIDR: 10.244.0.0/16
configSyncPeriod: 15m0s
conntrack:
  maxPerCore: 32768
  min: 131072
  tcpBeLiberal: true
detectLocalMode: InterfaceNamePrefix
detectLocal:
  interfaceNamePrefix: veth
hostnameOverride: Node-1
iptables:
  masqueradeAll: true
  masqueradeBit: 14
  localhostNodePorts: false
  syncPeriod: 1m0s
  minSyncPeriod: 1s
mode: iptables
nodePortAddresses: [192.168.0.0/24]
`;
  test('shared fields are mapped, the others accepted', () => {
    const r = parseKubeProxyConfiguration(real, 'kp.yaml');
    expect(r.diagnostics).toEqual([]);
    const c = resolveNodeConfig(r.layer);
    expect(c).toMatchObject({
      nodeName: 'node-1',
      clusterCIDR: '10.244.0.0/16',
      localDetector: { mode: 'InterfaceNamePrefix', interfacePrefix: 'veth' },
      masqueradeAll: true,
      masqueradeMark: '0x00004000',
      localhostNodePorts: false,
      syncPeriod: '1m0s',
      nodePortAddresses: ['192.168.0.0/24'],
      conntrackTCPLiberal: true,
    });
  });

  test('unknown keys, wrong apiVersion', () => {
    expect(codes(parseKubeProxyConfiguration(`${real}iptable: {}\n`, 'kp.yaml'))).toEqual(['E_CONFIG_KEY@24:1']);
    expect(codes(parseKubeProxyConfiguration(real.replace('v1alpha1', 'v1beta1'), 'kp.yaml'))).toEqual(['E_API_VERSION@1:13']);
    expect(codes(parseKubeProxyConfiguration(real.replace('  masqueradeBit: 14', '  masqueradeBits: 14'), 'kp.yaml'))).toEqual([
      'E_CONFIG_KEY@18:3',
    ]);
  });

  test('an interface detector without its interface is refused, as kube-proxy refuses to start with it', () => {
    const mode = (m: string) => `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\ndetectLocalMode: ${m}\n`;
    expect(codes(parseKubeProxyConfiguration(mode('BridgeInterface'), 'kp.yaml'))).toEqual(['E_FIELD@3:18']);
    expect(codes(parseKubeProxyConfiguration(mode('InterfaceNamePrefix'), 'kp.yaml'))).toEqual(['E_FIELD@3:18']);
    expect(codes(parseKubeProxyConfiguration(`${mode('InterfaceNamePrefix')}detectLocal: {interfaceNamePrefix: veth}\n`, 'kp.yaml'))).toEqual([]);
    expect(codes(parseNodeConfig('localDetector:\n  mode: BridgeInterface\n', 'n.yaml'))).toEqual(['E_FIELD@2:9']);
    expect(codes(parseNodeConfig('localDetector: {mode: InterfaceNamePrefix, interfacePrefix: veth}\n', 'n.yaml'))).toEqual([]);
  });

  test('the kube-proxy ConfigMap is unwrapped', () => {
    const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-proxy, namespace: kube-system}\ndata:\n  config.conf: |\n${real
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}\n`;
    const r = parseKubeProxyConfiguration(cm, 'cm.yaml');
    expect(r.diagnostics).toEqual([]);
    expect(r.layer.nodeName).toBe('node-1');
  });
});

describe('flags', () => {
  test('valid flags', () => {
    const r = nodeConfigFromFlags({
      nodeName: 'node-1',
      nodeIP: 'fd00::2',
      clusterCIDR: '10.244.0.0/16,fd00:10::/48',
      masqueradeAll: true,
      nodePortAddresses: '192.168.0.0/24, fd00::/64',
    });
    expect(r.diagnostics).toEqual([]);
    const c = resolveNodeConfig({ clusterCIDR: '10.0.0.0/8', localDetector: { mode: 'ClusterCIDR', clusterCIDR: '10.0.0.0/8' } }, r.layer);
    expect(c).toMatchObject({
      ipFamily: 6,
      nodeIP: 'fd00::2',
      clusterCIDR: 'fd00:10::/48',
      localDetector: { mode: 'ClusterCIDR', clusterCIDR: 'fd00:10::/48' },
      masqueradeAll: true,
      nodePortAddresses: ['192.168.0.0/24', 'fd00::/64'],
    });
  });

  test('invalid flags name the flag', () => {
    const r = nodeConfigFromFlags({ nodeName: 'a b', nodeIP: '1.2.3', clusterCIDR: '10/8', nodePortAddresses: 'x' });
    expect(r.diagnostics.map((d) => `${d.file}:${d.code}`)).toEqual([
      '--node-name:E_NAME',
      '--node-ip:E_INVALID_IP',
      '--cluster-cidr:E_INVALID_IP',
      '--nodeport-addresses:E_INVALID_IP',
    ]);
  });
});

test('random text never throws in the config parsers', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
      expect(Array.isArray(parseNodeConfig(text, 'n.yaml').diagnostics)).toBe(true);
      expect(Array.isArray(parseKubeProxyConfiguration(text, 'k.yaml').diagnostics)).toBe(true);
    }),
    { numRuns: 300 },
  );
});
