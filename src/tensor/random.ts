/**
 * @file Seeded, splittable random streams (xoshiro128**), so weight init, training data
 * and evaluation data each draw from their own stream and never disturb each other.
 * The whole state is four uint32 words: it is saved in checkpoints for exact resume.
 */

/** splitmix32: spreads a 32-bit seed into well-mixed state words. */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a hash of a label, to derive child streams by name. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

export class Rng {
  private s: Uint32Array;

  /** @param seed any integer; equal seeds give equal streams */
  constructor(seed: number, label = '') {
    const mix = splitmix32((seed ^ hashLabel(label)) >>> 0);
    mix(); // decorrelate from the raw seed
    this.s = new Uint32Array([mix(), mix(), mix(), mix()]);
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1; // xoshiro's one forbidden state
  }

  /** A child stream determined by this stream's seed words and `label`; the parent is not advanced. */
  fork(label: string): Rng {
    const seed = (this.s[0]! ^ Math.imul(this.s[1]!, 31) ^ Math.imul(this.s[2]!, 131) ^ this.s[3]!) >>> 0;
    return new Rng(seed, label);
  }

  /** Next uint32 (xoshiro128**). */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.uniform() * (hi - lo + 1));
  }

  /** A fair coin: 0 or 1. */
  bit(): number {
    return this.nextU32() >>> 31;
  }

  /** Standard normal (Box–Muller, one value per call). */
  normal(): number {
    const u = 1 - this.uniform(); // (0, 1]
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * Beta(½, ½) (the arcsine law on [0, 1], the dynamic n-grams task's prior, NTM paper §4.4):
   * sin²(π·U/2) for U uniform, one uniform per call. Its CDF is (2/π)·arcsin(√x).
   */
  betaHalf(): number {
    const s = Math.sin((Math.PI / 2) * this.uniform());
    return s * s;
  }

  /** The four state words, for checkpoints. */
  getState(): number[] {
    return Array.from(this.s);
  }

  setState(state: readonly number[]): void {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
      throw new Error('Rng.setState: expected four uint32 words');
    }
    if (state.every((w) => w === 0)) throw new Error('Rng.setState: the all-zero state is not a valid xoshiro128** state');
    this.s = new Uint32Array(state);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
