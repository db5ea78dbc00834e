import { randomBytes } from 'node:crypto';
import { compressSync } from 'snappy';
import { snappyDecompress, SnappyTooLargeError } from './loki-proto';

describe('snappyDecompress on hostile blocks', () => {
  it('refuses the 6-byte block that hung snappyjs, at once', () => {
    expect(() => snappyDecompress(Buffer.from([0x01, 0xfc, 0xfa, 0xff, 0xff, 0xff]), 1 << 20)).toThrow(/corrupt/);
  });

  it('refuses a declared length over the limit before decoding anything', () => {
    const block = Buffer.from(compressSync(Buffer.alloc(4096, 0x61)));
    expect(() => snappyDecompress(block, 1024)).toThrow(SnappyTooLargeError);
  });

  it('returns or throws for 20,000 random blocks, never more than the declared length', () => {
    let decoded = 0;
    for (let i = 0; i < 20_000; i++) {
      const block = randomBytes(1 + (i % 300));
      // Force a small declared length on half of them so some decode far enough to exercise copies.
      if (i % 2 === 0) {
        block[0] = i % 128;
      }
      try {
        const out = snappyDecompress(block, 1 << 16);
        expect(out.length).toBeLessThanOrEqual(1 << 16);
        decoded++;
      } catch (err) {
        // Native errors come from another realm than jest's, so check the shape, not instanceof.
        expect(typeof (err as { message?: unknown }).message).toBe('string');
      }
    }
    // Valid blocks do occur (declared length 0 with a trailing nothing), so the loop reached the decoder.
    expect(decoded).toBeGreaterThan(0);
  });

  it('round-trips what a shipper compresses', () => {
    const text = Buffer.from('level=info msg="pushed" '.repeat(200));
    expect(snappyDecompress(Buffer.from(compressSync(text)), 1 << 20).equals(text)).toBe(true);
  });
});
