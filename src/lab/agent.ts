/**
 * The endpoint agent: a small Node.js program run inside a lab namespace (`node -e`, no file, no dependency).
 * It listens on every endpoint address:port given to it, TCP and UDP, and answers each connection or datagram
 * with one JSON line `{"endpoint": "<own address:port>", "peer": "<address:port it saw>"}`; the peer tells
 * whether the node masqueraded the client. It prints `ready` once every socket listens.
 *
 * `agentProgram` must stay self-contained (no imports, no outer variables): its source text is what runs.
 */

export interface Listener {
  ip: string;
  port: number;
  proto: 'tcp' | 'udp';
}

/** What an agent answers; `peer` is the source address:port the endpoint saw. */
export interface AgentAnswer {
  endpoint: string;
  peer: string;
}

export function agentProgram(listeners: Listener[]): void {
  const net = require('node:net') as typeof import('node:net');
  const dgram = require('node:dgram') as typeof import('node:dgram');
  let pending = listeners.length;
  const listening = () => {
    pending -= 1;
    if (pending === 0) process.stdout.write('ready\n');
  };
  const fail = (where: string, error: Error) => {
    process.stdout.write(`${JSON.stringify({ error: `${where}: ${error.message}` })}\n`);
    process.exit(1);
  };
  for (const l of listeners) {
    const endpoint = `${l.ip}:${l.port}`;
    if (l.proto === 'tcp') {
      const server = net.createServer((socket) => {
        socket.on('error', () => socket.destroy());
        socket.end(`${JSON.stringify({ endpoint, peer: `${socket.remoteAddress}:${socket.remotePort}` })}\n`);
      });
      server.on('error', (e) => fail(`tcp ${endpoint}`, e));
      server.listen({ host: l.ip, port: l.port }, listening);
    } else {
      const socket = dgram.createSocket('udp4');
      socket.on('error', (e) => fail(`udp ${endpoint}`, e));
      socket.on('message', (_msg, peer) => {
        socket.send(`${JSON.stringify({ endpoint, peer: `${peer.address}:${peer.port}` })}\n`, peer.port, peer.address);
      });
      socket.bind({ address: l.ip, port: l.port }, listening);
    }
  }
  if (listeners.length === 0) process.stdout.write('ready\n');
}
