/**
 * SHA-256 (FIPS 180-4) for chain names. A large cluster hashes 100,000s of short ASCII texts, and for inputs
 * this short node:crypto spends most of its time around the hash: a native call, a UTF-8 encoding and a
 * result buffer each time. This one keeps its working memory between calls, so create one per compile and
 * hash every name with it. Text that is not ASCII goes to node:crypto, so the digest is always that of the
 * UTF-8 bytes. test/sha256.test.ts checks it against node:crypto.
 */
import { hash } from 'node:crypto';

const ROUND_CONSTANTS = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const INITIAL_STATE = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

export class Sha256 {
  private readonly state = new Int32Array(8);
  private readonly schedule = new Int32Array(64);
  private readonly bytes = new Uint8Array(32);

  /** The digest of `text` (its UTF-8 bytes); the array is reused by the next call. */
  digest(text: string): Uint8Array {
    if (!isAscii(text)) {
      this.bytes.set(hash('sha256', text, 'buffer'));
      return this.bytes;
    }
    const { state, schedule, bytes } = this;
    state.set(INITIAL_STATE);
    const length = text.length;
    // The message, a 0x80 byte, zeros, and the length in bits in the last 8 bytes of the last 64-byte block.
    const blocks = (length + 9 + 63) >> 6;
    for (let block = 0; block < blocks; block++) {
      for (let i = 0; i < 16; i++) {
        const at = (block << 6) + (i << 2);
        if (at + 4 <= length) {
          // Four characters of the text: the common case, without a test per byte.
          schedule[i] = (text.charCodeAt(at) << 24) | (text.charCodeAt(at + 1) << 16) | (text.charCodeAt(at + 2) << 8) | text.charCodeAt(at + 3);
          continue;
        }
        let word = 0;
        for (let j = 0; j < 4; j++) word = (word << 8) | (at + j < length ? text.charCodeAt(at + j) : at + j === length ? 0x80 : 0);
        schedule[i] = word;
      }
      if (block === blocks - 1) {
        schedule[14] = Math.floor(length / 0x20000000);
        schedule[15] = length << 3;
      }
      compress(state, schedule);
    }
    for (let i = 0; i < 8; i++) {
      const word = state[i] as number;
      bytes[i * 4] = word >>> 24;
      bytes[i * 4 + 1] = word >>> 16;
      bytes[i * 4 + 2] = word >>> 8;
      bytes[i * 4 + 3] = word;
    }
    return bytes;
  }
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** One 64-byte block: `schedule` holds its 16 words and is extended to 64 in place; `state` is updated. */
function compress(state: Int32Array, schedule: Int32Array): void {
  const w = schedule;
  for (let i = 16; i < 64; i++) {
    const w15 = w[i - 15] as number;
    const w2 = w[i - 2] as number;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) | 0;
  }
  let a = state[0] as number;
  let b = state[1] as number;
  let c = state[2] as number;
  let d = state[3] as number;
  let e = state[4] as number;
  let f = state[5] as number;
  let g = state[6] as number;
  let h = state[7] as number;
  for (let i = 0; i < 64; i++) {
    const sum1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const choice = (e & f) ^ (~e & g);
    const t1 = (h + sum1 + choice + (ROUND_CONSTANTS[i] as number) + (w[i] as number)) | 0;
    const sum0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const majority = (a & b) ^ (a & c) ^ (b & c);
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + sum0 + majority) | 0;
  }
  state[0] = ((state[0] as number) + a) | 0;
  state[1] = ((state[1] as number) + b) | 0;
  state[2] = ((state[2] as number) + c) | 0;
  state[3] = ((state[3] as number) + d) | 0;
  state[4] = ((state[4] as number) + e) | 0;
  state[5] = ((state[5] as number) + f) | 0;
  state[6] = ((state[6] as number) + g) | 0;
  state[7] = ((state[7] as number) + h) | 0;
}
