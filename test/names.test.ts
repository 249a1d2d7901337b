import { describe, expect, it } from 'vitest';
import { endpointChain, hashSuffix, servicePortChains } from '../src/proxy/iptables/names.js';

describe('chain names', () => {
  it.each([
    ['ns1/svc1:p80', 'tcp', 'KUBE-SVC-XPGD46QRK7WJZT7O'],
    ['ns2/svc2:p80', 'tcp', 'KUBE-SVC-GNZBNJ2PO5MGZ6GT'],
    ['ns5/svc5:p80', 'tcp', 'KUBE-SVC-NUKIZ6OKUXPJNT4C'],
    ['ns2/svc2:p8080', 'tcp', 'KUBE-SVC-2VJB64SDSIJUP5T6'],
    ['default/kubernetes:https', 'tcp', 'KUBE-SVC-NPX46M4PTMTKRN6Y'],
    ['kube-system/kube-dns:dns', 'udp', 'KUBE-SVC-TCOU7JCQXEZGVUNU'],
    ['kube-system/kube-dns:dns-tcp', 'tcp', 'KUBE-SVC-ERIFXISQEP7F7OF4'],
    ['kube-system/kube-dns:metrics', 'tcp', 'KUBE-SVC-JD5MR3NA4I4DYORP'],
    ['ns1/svc1', 'tcp', 'KUBE-SVC-AQI2S6QIMU7PVVRP'],
    ['ns2/svc2:dns-udp', 'udp', 'KUBE-SVC-56EGM3ZB4YILLRBZ'],
  ])('%s %s → %s', (portName, protocol, chain) => {
    expect(servicePortChains(portName, protocol).cluster).toBe(chain);
  });

  it('shares the hash between SVC, SVL, EXT and FW', () => {
    expect(servicePortChains('ns1/svc1:p80', 'tcp')).toEqual({
      cluster: 'KUBE-SVC-XPGD46QRK7WJZT7O',
      local: 'KUBE-SVL-XPGD46QRK7WJZT7O',
      external: 'KUBE-EXT-XPGD46QRK7WJZT7O',
      firewall: 'KUBE-FW-XPGD46QRK7WJZT7O',
    });
  });

  it.each([
    ['ns1/svc1:p80', '10.180.0.1:80', 'KUBE-SEP-SXIVWICOYRO3J4NJ'],
    ['ns3/svc3:p80', '10.180.0.3:80', 'KUBE-SEP-OYPFS5VJICHGATKP'],
    ['ns5/svc5:p80', '10.180.0.3:80', 'KUBE-SEP-I77PXRDZVX7PMWMN'],
    ['ns4/svc4:p8082', '10.4.0.1:8082', 'KUBE-SEP-SU5STNODRYEWJAUF'],
  ])('endpoint chain of %s %s', (portName, endpoint, chain) => {
    expect(endpointChain(portName, 'tcp', endpoint)).toBe(chain);
  });

  it('keeps the first 16 characters of the base32 digest', () => {
    // base32(sha256("ns1/svc1:p80tcp")) = XPGD46QRK7WJZT7ONRPOTZ5VR35MJ4TXQWCF6RBTQMVGOUHJFHOQ====
    expect(hashSuffix('ns1/svc1:p80tcp')).toBe('XPGD46QRK7WJZT7O');
  });
});
