/** nftables naming (spec §4.1), the canonical sort (§8), and nft's printing of priorities and durations. */
import { describe, expect, it } from 'vitest';
import type { Service } from '../src/cluster/types.js';
import type { ProxyEndpoint, ProxyServicePort } from '../src/proxy/service-ports.js';
import { endpointNames, hashedName, servicePortNames, servicePortText } from '../src/proxy/nftables/names.js';
import { canonicalizeNftDump } from '../src/render/nft-canonical.js';
import { goQuote } from '../src/render/nft-dump.js';
import { formatDuration, priorityText } from '../src/render/nft-list.js';

function servicePort(namespace: string, name: string, portName: string, protocol: 'tcp' | 'udp' | 'sctp'): ProxyServicePort {
  const service = { namespace, name } as Service;
  return { service, portName: `${namespace}/${name}${portName ? `:${portName}` : ''}`, protocol } as ProxyServicePort;
}

describe('names', () => {
  it('hashes the unprefixed text (spec test vectors)', () => {
    expect(hashedName('testing/service/tcp/http')).toBe('P4ZYZVCF-testing/service/tcp/http');
    expect(hashedName('testing/service/tcp/http__10.180.0.1/80')).toMatch(/^JO2XBXZR-/);
    const svc = servicePort('testing', 'service', 'http', 'tcp');
    expect(servicePortNames(svc)).toEqual({
      cluster: 'service-P4ZYZVCF-testing/service/tcp/http',
      local: 'local-P4ZYZVCF-testing/service/tcp/http',
      external: 'external-P4ZYZVCF-testing/service/tcp/http',
      firewall: 'firewall-P4ZYZVCF-testing/service/tcp/http',
    });
    expect(endpointNames(svc, { ip: '10.180.0.1', port: 80 } as ProxyEndpoint).chain).toMatch(/^endpoint-JO2XBXZR-testing\/service\/tcp\/http__10\.180\.0\.1\/80$/);
  });

  it('keeps an empty port name and turns IPv6 colons into dots', () => {
    const svc = servicePort('ns1', 'svc1', '', 'udp');
    expect(servicePortText(svc)).toBe('ns1/svc1/udp/');
    const ep = { ip: 'fd80:abcd:12::a1b2:c3d4:e5f6:9999', port: 80 } as ProxyEndpoint;
    expect(endpointNames(svc, ep).affinitySet).toMatch(/^affinity-[A-Z2-7]{8}-ns1\/svc1\/udp\/__fd80\.abcd\.12\.\.a1b2\.c3d4\.e5f6\.9999\/80$/);
  });

  it('cuts names longer than 240 characters to 237 plus "..."', () => {
    const long = `${'n'.repeat(63)}/${'s'.repeat(63)}/tcp/${'p'.repeat(15)}__${'a'.repeat(100)}`;
    const name = hashedName(long);
    expect(name).toHaveLength(240);
    expect(name.endsWith('...')).toBe(true);
    expect(name.slice(0, 9)).toBe(hashedName(long).slice(0, 9));
    expect(hashedName('x'.repeat(231))).toHaveLength(240);
    expect(hashedName('x'.repeat(231)).endsWith('x')).toBe(true);
  });
});

describe('canonical sort', () => {
  it('orders by type, then name, keeps rule order, drops blank and # lines, puts unknown types last', () => {
    const text = [
      '# svc1',
      'add element ip kube-proxy cluster-ips { 10.0.0.2 }',
      'add rule ip kube-proxy b second',
      'add element ip kube-proxy cluster-ips { 10.0.0.1 }',
      '',
      'add map ip kube-proxy m { type inet_service : verdict ; }',
      'add rule ip kube-proxy a only',
      'add rule ip kube-proxy b first',
      'flush chain ip kube-proxy b',
      'add set ip kube-proxy s { type ipv4_addr ; }',
      'add chain ip kube-proxy b',
      'add table ip kube-proxy { comment "rules for kube-proxy" ; }',
      'add chain ip kube-proxy a',
      'insert something odd',
    ].join('\n');
    expect(canonicalizeNftDump(text)).toBe(
      [
        'add table ip kube-proxy { comment "rules for kube-proxy" ; }',
        'add chain ip kube-proxy a',
        'add chain ip kube-proxy b',
        // The type is the 2nd word, as in the Go comparator: a flush of a chain sorts among the chains.
        'flush chain ip kube-proxy b',
        'add rule ip kube-proxy a only',
        'add rule ip kube-proxy b second',
        'add rule ip kube-proxy b first',
        'add set ip kube-proxy s { type ipv4_addr ; }',
        'add map ip kube-proxy m { type inet_service : verdict ; }',
        'add element ip kube-proxy cluster-ips { 10.0.0.1 }',
        'add element ip kube-proxy cluster-ips { 10.0.0.2 }',
        'insert something odd',
        '',
      ].join('\n'),
    );
    expect(canonicalizeNftDump('')).toBe('');
  });
});

describe('printing details', () => {
  it('prints priorities as nft does', () => {
    expect(priorityText(-110, 'prerouting', 'ip')).toBe('dstnat - 10');
    expect(priorityText(-110, 'output', 'ip')).toBe('-110');
    expect(priorityText(-100, 'output', 'ip')).toBe('-100');
    expect(priorityText(-100, 'prerouting', 'ip')).toBe('dstnat');
    expect(priorityText(0, 'forward', 'ip')).toBe('filter');
    expect(priorityText(-10, 'forward', 'ip6')).toBe('filter - 10');
    expect(priorityText(11, 'forward', 'ip')).toBe('11');
    expect(priorityText(100, 'postrouting', 'ip')).toBe('srcnat');
    expect(priorityText(90, 'postrouting', 'ip')).toBe('srcnat - 10');
    expect(priorityText(100, 'input', 'ip')).toBe('100');
    expect(priorityText(-150, 'input', 'ip')).toBe('mangle');
    expect(priorityText(-300, 'input', 'ip')).toBe('raw');
    expect(priorityText(50, 'input', 'ip')).toBe('security');
  });

  it('prints durations as nft does', () => {
    expect(formatDuration(10800)).toBe('3h');
    expect(formatDuration(300)).toBe('5m');
    expect(formatDuration(90)).toBe('1m30s');
    expect(formatDuration(86400)).toBe('1d');
    expect(formatDuration(90061)).toBe('1d1h1m1s');
    expect(formatDuration(1)).toBe('1s');
  });

  it('quotes like Go %q', () => {
    expect(goQuote('ns1/svc1:p80')).toBe('"ns1/svc1:p80"');
    expect(goQuote('a "b" \\ c\n')).toBe('"a \\"b\\" \\\\ c\\n"');
  });
});
