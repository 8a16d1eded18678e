// @file Runs a recorded step's kernel calls from a list in memory (src/train/step-program.ts), so
// a replayed step crosses from JavaScript into WebAssembly once per run of calls rather than once
// per call (each crossing cost ~13 ns, 1,500 calls in a dnc-repeat-copy step).
//
// The kernels are called through the function table, which JavaScript fills with them when the
// heap is made (src/kernels/heap.ts): a call is its kernel's table index, its argument count and
// its arguments, all i32 (every kernel a step records takes only pointers, sizes and flags, which
// JavaScript would convert to i32 the same way, ToInt32, when calling it directly).

// @ts-ignore: decorator
@inline
function a(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

// Runs n calls from the list at p: per call, [table index, argument count, arguments...] as i32.
export function runCalls(p: usize, n: i32): void {
  for (let c = 0; c < n; c++) {
    const f = load<u32>(p), argc = load<i32>(p, 4);
    const q = p + 8;
    switch (argc) {
      case 0: call_indirect<void>(f); break;
      case 1: call_indirect<void>(f, a(q, 0)); break;
      case 2: call_indirect<void>(f, a(q, 0), a(q, 1)); break;
      case 3: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2)); break;
      case 4: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3)); break;
      case 5: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4)); break;
      case 6: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5)); break;
      case 7: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5), a(q, 6)); break;
      case 8: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5), a(q, 6), a(q, 7)); break;
      case 9: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5), a(q, 6), a(q, 7), a(q, 8)); break;
      case 10: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5), a(q, 6), a(q, 7), a(q, 8), a(q, 9)); break;
      case 11: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5), a(q, 6), a(q, 7), a(q, 8), a(q, 9), a(q, 10)); break;
      case 12: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5), a(q, 6), a(q, 7), a(q, 8), a(q, 9), a(q, 10), a(q, 11)); break;
      case 13: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5), a(q, 6), a(q, 7), a(q, 8), a(q, 9), a(q, 10), a(q, 11), a(q, 12)); break;
      case 14: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5), a(q, 6), a(q, 7), a(q, 8), a(q, 9), a(q, 10), a(q, 11), a(q, 12), a(q, 13)); break;
      case 15: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5), a(q, 6), a(q, 7), a(q, 8), a(q, 9), a(q, 10), a(q, 11), a(q, 12), a(q, 13), a(q, 14)); break;
      case 16: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5), a(q, 6), a(q, 7), a(q, 8), a(q, 9), a(q, 10), a(q, 11), a(q, 12), a(q, 13), a(q, 14), a(q, 15)); break;
      case 17: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5), a(q, 6), a(q, 7), a(q, 8), a(q, 9), a(q, 10), a(q, 11), a(q, 12), a(q, 13), a(q, 14), a(q, 15), a(q, 16)); break;
      case 18: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5), a(q, 6), a(q, 7), a(q, 8), a(q, 9), a(q, 10), a(q, 11), a(q, 12), a(q, 13), a(q, 14), a(q, 15), a(q, 16), a(q, 17)); break;
      case 19: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5), a(q, 6), a(q, 7), a(q, 8), a(q, 9), a(q, 10), a(q, 11), a(q, 12), a(q, 13), a(q, 14), a(q, 15), a(q, 16), a(q, 17), a(q, 18)); break;
      case 20: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5), a(q, 6), a(q, 7), a(q, 8), a(q, 9), a(q, 10), a(q, 11), a(q, 12), a(q, 13), a(q, 14), a(q, 15), a(q, 16), a(q, 17), a(q, 18), a(q, 19)); break;
      case 21: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5), a(q, 6), a(q, 7), a(q, 8), a(q, 9), a(q, 10), a(q, 11), a(q, 12), a(q, 13), a(q, 14), a(q, 15), a(q, 16), a(q, 17), a(q, 18), a(q, 19), a(q, 20)); break;
      case 22: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5), a(q, 6), a(q, 7), a(q, 8), a(q, 9), a(q, 10), a(q, 11), a(q, 12), a(q, 13), a(q, 14), a(q, 15), a(q, 16), a(q, 17), a(q, 18), a(q, 19), a(q, 20), a(q, 21)); break;
      case 23: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5), a(q, 6), a(q, 7), a(q, 8), a(q, 9), a(q, 10), a(q, 11), a(q, 12), a(q, 13), a(q, 14), a(q, 15), a(q, 16), a(q, 17), a(q, 18), a(q, 19), a(q, 20), a(q, 21), a(q, 22)); break;
      case 24: call_indirect<void>(f, a(q, 0), a(q, 1), a(q, 2), a(q, 3), a(q, 4), a(q, 5), a(q, 6), a(q, 7), a(q, 8), a(q, 9), a(q, 10), a(q, 11), a(q, 12), a(q, 13), a(q, 14), a(q, 15), a(q, 16), a(q, 17), a(q, 18), a(q, 19), a(q, 20), a(q, 21), a(q, 22), a(q, 23)); break;
      default: unreachable(); // no kernel takes more than 24 arguments (the list's writer checks)
    }
    p = q + (<usize>argc << 2);
  }
}
