import { hash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Sha256 } from '../src/proxy/sha256.js';

const hex = (digest: Uint8Array) => Buffer.from(digest).toString('hex');
const reference = (text: string) => hash('sha256', text, 'hex');

describe('Sha256', () => {
  it('gives the FIPS 180-4 test vectors', () => {
    const sha = new Sha256();
    expect(hex(sha.digest('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hex(sha.digest(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(sha.digest('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('agrees with node:crypto at every length around the block and padding edges, reusing one instance', () => {
    const sha = new Sha256();
    for (let length = 0; length <= 200; length++) {
      const text = 'ns/svc:http-tcp10.0.0.1:80'.repeat(10).slice(0, length);
      expect(hex(sha.digest(text)), `length ${length}`).toBe(reference(text));
    }
  });

  it('agrees with node:crypto on any text, ASCII or not, in any order of calls', () => {
    const sha = new Sha256();
    fc.assert(fc.property(fc.array(fc.string({ maxLength: 300 }), { maxLength: 5 }), (texts) => {
      for (const text of texts) expect(hex(sha.digest(text))).toBe(reference(text));
    }));
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (text) => {
      expect(hex(sha.digest(text))).toBe(reference(text));
    }));
  });
});
