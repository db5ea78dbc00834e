import { isValueLiteral, lineFlagsOf, similarity, type Similarity } from './similarity';

describe('similarity', () => {
  const out: Similarity = { score: 0, wildcards: 0 };
  const template = ['disk', 'sda', 'failed', 'on', 'node', 'n1'];

  it('scores the share of informative positions that are equal', () => {
    expect(similarity(template, ['disk', 'sdb', 'failed', 'on', 'node', 'n2'], out).score).toBeCloseTo(4 / 6, 12);
  });

  // The miner passes the score it needs (its threshold, or the best template so far): a comparison that can no
  // longer reach it stops, which must never change which template wins.
  it('stops a comparison that cannot reach the score the caller needs, but never one that can tie it', () => {
    const line = ['disk', 'sdb', 'failed', 'on', 'node', 'n2'];
    expect(similarity(template, line, out, undefined, undefined, 4 / 6).score).toBe(4 / 6); // ties: kept
    expect(similarity(template, line, out, undefined, undefined, 0.7).score).toBe(-1); // left mid-way
    const far = ['cpu', 'hot', 'in', 'rack', 'r7', 'x'];
    expect(similarity(template, far, out, undefined, undefined, 0.4).score).toBe(-1);
    expect(similarity(template, far, out).score).toBe(0); // without a need: the full comparison
  });

  it('reads the line side of the shared-word test from the caller when given (same answer)', () => {
    const shared = new Set(['0:disk', '1:sda', '1:sdb']);
    const isShared = (i: number, w: string): boolean => shared.has(`${i}:${w}`);
    const line = ['disk', 'sdb', 'failed', 'on', 'node', 'n2'];
    const lineFlags = Uint8Array.from(line, (w, i) => lineFlagsOf(i, w, isShared));
    const plain = similarity(template, line, out, isShared).score;
    expect(plain).toBeCloseTo(3 / 4, 12); // disk (shared, equal) and sda/sdb (both shared) are no evidence
    expect(similarity(template, line, out, isShared, lineFlags).score).toBe(plain);
  });

  it('takes booleans and nulls in any case, with one trailing comma or semicolon, alone or after a key', () => {
    for (const w of ['true', 'False', 'TRUE', 'false,', 'true;', 'null', 'NULL', 'nil', '(null)', '<null>,']) {
      expect([w, isValueLiteral(w)]).toEqual([w, true]);
    }
    for (const w of ['truth', 'fals', 'falsey', 'true,,', 'tru3', '', 'nullable', 'none', '(nul)']) {
      expect([w, isValueLiteral(w)]).toEqual([w, false]);
    }
    expect(isValueLiteral('visible=true', 'visible='.length)).toBe(true);
    expect(isValueLiteral('ws=null', 'ws='.length)).toBe(true);
    expect(isValueLiteral('visible=trueish', 'visible='.length)).toBe(false);
  });

  it('counts two different booleans at a position as no evidence', () => {
    const t = ['window', 'event', 'shown', 'true'];
    expect(similarity(t, ['window', 'event', 'shown', 'false'], out).score).toBe(1);
    expect(similarity(t, ['window', 'event', 'shown', 'maybe'], out).score).toBeCloseTo(3 / 4, 12);
  });
});
