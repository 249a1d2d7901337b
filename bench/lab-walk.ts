/**
 * The kernel's rule-walk cost, without the noise of a whole connection (root only; part of `npm run bench --
 * --lab`). A connection's round trip (bench/lab.ts) costs ~0.7 ms in Node.js, far more than the kernel spends on
 * the rules, so the curve drowns. Here the node itself opens many TCP connections to one ClusterIP: each
 * connect() sends its SYN inside the system call, through nat OUTPUT (a NEW connection: the whole
 * KUBE-SERVICES walk in iptables mode, one map lookup in nftables mode), and out of an interface whose other end
 * is down, which drops it. The time per connect() is the same Node.js and socket overhead for every ruleset plus the rule
 * walk, so first vs last Service, 100 vs 5,000 Services shows the walk itself.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Cluster } from '../src/cluster/types.js';
import type { NodeConfig } from '../src/model/node-config.js';
import { createNamespace, destroySession, ipBatch, iptablesRestore, newSession, nfacctAdd, nftLoad } from '../src/lab/netns.js';
import { labRules } from '../src/lab/rules.js';

/** Connections per measurement; the median of ROUNDS measurements is printed. */
const CONNECTS = 2000;
const ROUNDS = 5;

/**
 * Runs in the node namespace (`node -e`, self-contained): opens `count` connections to each target and
 * prints the microseconds per connect() of each target, median of `rounds`.
 */
function connectCostProgram(source: string, targets: string[], port: number, count: number, rounds: number): void {
  const net = require('node:net') as typeof import('node:net');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const burst = (host: string) =>
    new Promise<number>((resolve) => {
      const sockets: import('node:net').Socket[] = [];
      const start = performance.now();
      for (let i = 0; i < count; i++) sockets.push(net.connect({ host, port, localAddress: source }).on('error', () => {}));
      // net.connect() makes its connect() system call on the next tick, and the SYN has passed the nat OUTPUT
      // hook when that call returns: by setImmediate every SYN is out.
      setImmediate(() => {
        const micros = ((performance.now() - start) * 1000) / count;
        for (const s of sockets) s.destroy();
        resolve(micros);
      });
    });
  void (async () => {
    for (const host of targets) await burst(host); // warm-up: routes, JIT, socket buffers
    const result: number[] = [];
    for (const host of targets) {
      const samples: number[] = [];
      for (let r = 0; r < rounds; r++) samples.push(await burst(host));
      result.push(median(samples));
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
  })();
}

export interface WalkCost {
  firstMicros: number;
  lastMicros: number;
}

/** µs per new connection from the node to the first and to the last ClusterIP, through the loaded rules. */
export function measureWalkCost(cluster: Cluster, config: NodeConfig, mode: 'iptables' | 'nftables', backend: 'nft' | 'legacy', first: string, last: string): WalkCost {
  const session = newSession();
  try {
    const ns = `${session.prefix}-walk`;
    createNamespace(session, ns);
    const node = config.nodeIP;
    // eth0 is a veth whose peer stays down: a SYN that got through the hooks is dropped at transmit. (The
    // dummy driver would do the same, but lab kernels need not have it.) The gateway's neighbour entry is
    // permanent so no ARP holds the SYN back.
    const gateway = gatewayOf(node);
    ipBatch(ns, [
      'link set lo up',
      'link add eth0 type veth peer name sink0',
      'link set eth0 up',
      `addr add ${node}/24 dev eth0`,
      `neigh add ${gateway} lladdr 02:00:00:00:00:01 dev eth0 nud permanent`,
      `route add default via ${gateway} dev eth0 onlink`,
    ]);
    const rules = labRules(cluster, config, mode);
    for (const name of rules.nfacctObjects) nfacctAdd(ns, name);
    for (const text of rules.texts) {
      if (mode === 'nftables') nftLoad(ns, text);
      else iptablesRestore(ns, backend, text);
    }
    const source = `(${connectCostProgram.toString()})(...${JSON.stringify([node, [first, last], 80, CONNECTS, ROUNDS])})`;
    const started = performance.now();
    const run = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', source], { encoding: 'utf8', timeout: 120_000 });
    if (run.status !== 0) throw new Error(`connect-cost probe failed after ${Math.round(performance.now() - started)} ms: ${run.stderr || run.error?.message}`);
    const [firstMicros, lastMicros] = JSON.parse(run.stdout) as [number, number];
    return { firstMicros, lastMicros };
  } finally {
    destroySession(session);
  }
}

/** A gateway address on the node's /24 (any address but the node's: the dummy interface never asks for it). */
function gatewayOf(node: string): string {
  const parts = node.split('.');
  parts[3] = parts[3] === '1' ? '254' : '1';
  return parts.join('.');
}
