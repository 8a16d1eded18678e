/**
 * @file Numbers that the WASM kernels (src/kernels/assembly/, compiled by AssemblyScript) and
 * their TypeScript twins must share, defined once for both compilers: plain literals only, so
 * the file is valid AssemblyScript and TypeScript alike. The kernels read them as float32
 * (`<f32>COSINE_EPS`) where they compute in float32.
 */

/** ε in the cosine similarity: keeps the norm and the quotient finite for all-zero keys or rows. */
export const COSINE_EPS = 1e-6;

/**
 * A sharpened weight below this (2^-64) is 0, and constant (no gradient). Such a weight cannot
 * change any float32 sum it joins (a head's weights sum to ~1), but its products with other
 * small numbers (gradients ~1e-8 and below) fall below float32's smallest normal number, where
 * the CPU slows down many times over: late in training, when the heads have sharpened, the
 * memory's backward pass took 9 times as long before this floor. (2^-64, written out: exact in
 * float32 and float64.)
 */
export const WEIGHT_FLOOR = 5.421010862427522e-20;

/**
 * ε in û = ε + (1 − ε)·u, DeepMind's value: keeps every factor of the allocation's cumulative
 * product at least ε, so the product over the freest slots never becomes exactly 0 (DeepMind's
 * cumprod gradient divides by these factors). Our backward needs no division, but we keep ε so
 * the allocation values match DeepMind's.
 */
export const ALLOCATION_EPS = 1e-6;

/** The activation kernel's code for each activation (kernels/activate.ts maps the names). */
export const ACT_IDENTITY = 0;
export const ACT_SIGMOID = 1;
export const ACT_TANH = 2;
export const ACT_SOFTPLUS = 3;
export const ACT_ONEPLUS = 4;
export const ACT_SOFTMAX = 5;
