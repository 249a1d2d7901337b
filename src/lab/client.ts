/**
 * The prober: a Node.js program run inside a client namespace (`node -e`, no file, no dependency). It reads
 * one JSON probe per stdin line and writes one JSON result line per probe, so one process serves every flow
 * sent from its namespace. A probe opens `count` new connections (TCP: connect and read the agent's line;
 * UDP: a fresh socket per datagram) from `src` to `dst:port`, `concurrency` at a time, or pings once with
 * `ping -c1 -W1`.
 *
 * `clientProgram` must stay self-contained (no imports, no outer variables): its source text is what runs.
 */

export interface Probe {
  id: number;
  kind: 'tcp' | 'udp' | 'ping';
  src: string;
  dst: string;
  /** Not used by ping. */
  port: number;
  count: number;
  timeoutMs: number;
  concurrency: number;
}

/**
 * One connection's fate: an agent answered (its endpoint and the peer it saw); refused (TCP RST or ICMP port
 * unreachable); unreachable (ICMP host/net unreachable); timeout (nothing came back); for ping: reply, an ICMP
 * error (ping's own words), or no reply.
 */
export type Observation =
  | { outcome: 'answered'; endpoint: string; peer: string }
  | { outcome: 'refused' }
  | { outcome: 'unreachable'; detail: string }
  | { outcome: 'timeout' }
  | { outcome: 'reply' }
  | { outcome: 'icmp-error'; detail: string }
  | { outcome: 'no-reply' }
  | { outcome: 'error'; detail: string };

export interface ProbeResult {
  id: number;
  observations: Observation[];
  /** How long each connection took, from connect (or send) to its fate, in milliseconds. */
  milliseconds: number[];
}

export function clientProgram(): void {
  const net = require('node:net') as typeof import('node:net');
  const dgram = require('node:dgram') as typeof import('node:dgram');
  const childProcess = require('node:child_process') as typeof import('node:child_process');
  const readline = require('node:readline') as typeof import('node:readline');

  const fromError = (e: NodeJS.ErrnoException): Observation => {
    if (e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET') return { outcome: 'refused' };
    if (e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH') return { outcome: 'unreachable', detail: e.code };
    return { outcome: 'error', detail: `${e.code ?? ''} ${e.message}`.trim() };
  };
  const fromAnswer = (text: string): Observation => {
    try {
      const a = JSON.parse(text) as { endpoint: string; peer: string };
      return { outcome: 'answered', endpoint: a.endpoint, peer: a.peer };
    } catch {
      return { outcome: 'error', detail: `unreadable answer ${JSON.stringify(text)}` };
    }
  };

  /** The first fate wins; the timer and the socket go with it. */
  const settle = (p: Probe, resolve: (o: Observation) => void, close: () => void) => {
    let done = false;
    const timer = setTimeout(() => finish({ outcome: 'timeout' }), p.timeoutMs);
    const finish = (o: Observation) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      close();
      resolve(o);
    };
    return finish;
  };

  const tcp = (p: Probe) =>
    new Promise<Observation>((resolve) => {
      let data = '';
      const socket = net.connect({ host: p.dst, port: p.port, localAddress: p.src });
      const finish = settle(p, resolve, () => socket.destroy());
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('end', () => finish(data ? fromAnswer(data) : { outcome: 'refused' }));
      socket.on('error', (e) => finish(data ? fromAnswer(data) : fromError(e)));
    });

  const udp = (p: Probe) =>
    new Promise<Observation>((resolve) => {
      const socket = dgram.createSocket('udp4');
      const finish = settle(p, resolve, () => socket.close());
      // A connected socket: the kernel reports an ICMP port unreachable as ECONNREFUSED on it.
      socket.on('error', (e) => finish(fromError(e)));
      socket.on('message', (msg) => finish(fromAnswer(msg.toString())));
      socket.bind({ address: p.src, port: 0 }, () => socket.connect(p.port, p.dst, () => socket.send('probe')));
    });

  const ping = (p: Probe) =>
    new Promise<Observation>((resolve) => {
      childProcess.execFile('ping', ['-n', '-c1', `-W${Math.max(1, Math.round(p.timeoutMs / 1000))}`, '-I', p.src, p.dst], (_error, stdout) => {
        const text = String(stdout);
        if (/ bytes from /.test(text)) return resolve({ outcome: 'reply' });
        const icmp = /^From \S+ icmp_seq=\d+ (.+)$/m.exec(text);
        if (icmp) return resolve({ outcome: 'icmp-error', detail: (icmp[1] as string).trim() });
        resolve({ outcome: 'no-reply' });
      });
    });

  const run = async (p: Probe) => {
    const once = p.kind === 'tcp' ? tcp : p.kind === 'udp' ? udp : ping;
    const observations: Observation[] = new Array(p.count);
    const milliseconds: number[] = new Array(p.count);
    const timed = async (i: number) => {
      const started = performance.now();
      observations[i] = await once(p);
      milliseconds[i] = performance.now() - started;
    };
    let next = 0;
    const worker = async () => {
      while (next < p.count) await timed(next++);
    };
    // One connection alone first: it resolves the neighbours on the path, so the burst after it does not
    // pile up in an ARP queue (a SYN lost there is only retried after a second).
    if (p.count > 0) await timed(next++);
    await Promise.all(Array.from({ length: Math.max(1, Math.min(p.concurrency, p.count)) }, worker));
    process.stdout.write(`${JSON.stringify({ id: p.id, observations, milliseconds })}\n`);
  };

  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim()) void run(JSON.parse(line) as Probe);
  });
  process.stdout.write('ready\n');
}
