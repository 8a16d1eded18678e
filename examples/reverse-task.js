// A task of your own for engram: reverse. The model reads n words, then writes them back in
// reverse order (last word first). Train it with
//
//   npx engram train --preset ntm-copy-small --task examples/reverse-task.js
//
// The default export takes the run's task config (so --set task.bits=… and task.minWords/maxWords
// apply) and returns the task. Batches are time-major: input [T, B, X], target [T, B, Y] and
// mask [T, B] (1 where the output is scored), every sample zero-padded to the batch's longest.
//
//   t           input bits  start  end  target                mask
//   0           0           1      0    0                     0
//   1..n        word t      0      0    0                     0
//   n+1         0           0      1    0                     0
//   n+2..2n+1   0           0      0    word 2n+2−t (reversed) 1
export default function reverseTask(config) {
  const bits = config.bits, X = bits + 2, Y = bits;
  return {
    name: 'reverse',
    inputSize: X,
    outputSize: Y,
    lengthName: 'words',
    lengths: [config.minWords, config.maxWords],
    steps: (n) => 2 * n + 2,
    /** rng: engram's seeded stream (rng.int(lo, hi) inclusive, rng.bit()); options.length fixes n */
    sample(rng, B, options = {}) {
      const words = Array.from({ length: B }, () => options.length ?? rng.int(config.minWords, config.maxWords));
      const T = 2 * Math.max(...words) + 2;
      const input = new Float32Array(T * B * X), target = new Float32Array(T * B * Y), mask = new Float32Array(T * B);
      for (let b = 0; b < B; b++) {
        const n = words[b];
        input[b * X + bits] = 1; // start
        for (let t = 1; t <= n; t++) {
          for (let j = 0; j < bits; j++) {
            const v = rng.bit();
            input[(t * B + b) * X + j] = v;
            target[((2 * n + 2 - t) * B + b) * Y + j] = v; // word t comes out at step 2n + 2 − t
          }
        }
        input[((n + 1) * B + b) * X + bits + 1] = 1; // end
        for (let t = n + 2; t <= 2 * n + 1; t++) mask[t * B + b] = 1;
      }
      return { T, B, X, Y, input, target, mask, lengths: words, repeats: words.map(() => 1) };
    },
  };
}
