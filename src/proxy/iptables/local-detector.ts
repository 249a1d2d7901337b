/**
 * kube-proxy's local-traffic detector (pkg/proxy/util/localdetector.go): the match that tells pod traffic
 * from everything else. Undefined when the detector is not implemented (mode None, or no CIDR known).
 */
import type { NodeConfig } from '../../model/node-config.js';
import { parseCIDR } from '../../net/ip.js';

export interface LocalDetectorArgs {
  /** Matches traffic from local pods, e.g. `-s 10.0.0.0/8`. */
  ifLocal: string[];
  /** Matches everything else, e.g. `! -s 10.0.0.0/8`. */
  ifNotLocal: string[];
}

export function localDetectorArgs(config: NodeConfig): LocalDetectorArgs | undefined {
  const detector = config.localDetector;
  switch (detector.mode) {
    case 'ClusterCIDR':
    case 'NodeCIDR': {
      const text = detector.mode === 'ClusterCIDR' ? detector.clusterCIDR ?? config.clusterCIDR : detector.nodeCIDR;
      const cidr = familyCIDR(text ?? '', config.ipFamily);
      return cidr === undefined ? undefined : { ifLocal: ['-s', cidr], ifNotLocal: ['!', '-s', cidr] };
    }
    case 'BridgeInterface': {
      const bridge = detector.bridgeInterface ?? '';
      return bridge === '' ? undefined : { ifLocal: ['-i', bridge], ifNotLocal: ['!', '-i', bridge] };
    }
    case 'InterfaceNamePrefix': {
      const prefix = detector.interfacePrefix ?? '';
      return prefix === '' ? undefined : { ifLocal: ['-i', `${prefix}+`], ifNotLocal: ['!', '-i', `${prefix}+`] };
    }
    case 'None':
      return undefined;
  }
}

/** The CIDR of the proxier's family from a comma-separated list (dual-stack clusterCIDR), canonical text. */
function familyCIDR(list: string, family: 4 | 6): string | undefined {
  for (const item of list.split(',')) {
    const cidr = parseCIDR(item.trim(), { sloppy: true });
    if (cidr && cidr.family === family) return cidr.text;
  }
  return undefined;
}
