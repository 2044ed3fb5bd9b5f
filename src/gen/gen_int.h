/* gen_int.h -- internals shared by the generator's files: the random
 * streams, date arithmetic, the text noise and the clinical model. */
#ifndef KB_GEN_INT_H
#define KB_GEN_INT_H

#include <math.h>
#include <stdint.h>

#include "gen/gen.h"

/* splitmix64 (Steele, Lea, Flood 2014) as both seed mixer and generator: one
 * 64-bit word of state, so a stream per (person, purpose, year) costs
 * nothing to create, and its quality is ample for simulation. */
typedef struct gen_rng {
    uint64_t s;
} gen_rng;

static inline uint64_t gen_mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline void gen_rng_seed(gen_rng *r, uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
    r->s = gen_mix64(gen_mix64(gen_mix64(seed ^ 0x6b656e62616e6bULL) ^ a) ^ (b << 32 | (c & 0xffffffffULL)));
}

static inline uint64_t gen_next(gen_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline double gen_unif(gen_rng *r) {
    return (double)(gen_next(r) >> 11) * 0x1.0p-53;
}

static inline int gen_below(gen_rng *r, int n) {
    return (int)(((gen_next(r) >> 32) * (uint64_t)n) >> 32);
}

static inline int gen_chance(gen_rng *r, double p) {
    return gen_unif(r) < p;
}

/* Box-Muller; the spare is dropped so each draw costs one fixed amount of
 * state and streams stay aligned whatever a caller does with the values. */
static inline double gen_gauss(gen_rng *r) {
    double u = gen_unif(r), v = gen_unif(r);
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Text noise (gen_noise.c).  All work in place on UTF-8 strings of bounded
 * size; cap is the buffer size. */
void kb_gen_noise_typo(gen_rng *r, char *kana, size_t cap);
void kb_gen_noise_halfwidth(char *kana, size_t cap);
void kb_gen_noise_fullwidth_digits(char *s, size_t cap);
int kb_gen_noise_smallkana(char *kana, size_t cap);  /* 1 when something changed */
int kb_gen_noise_variant(gen_rng *r, char *kanji, size_t cap);
void kb_gen_noise_hiragana(char *kana, size_t cap);
/* Two adjacent digits swapped (a transposition slip); 1 when changed. */
int kb_gen_noise_transpose_digits(gen_rng *r, char *s);
int kb_gen_noise_date_digit(gen_rng *r, char *date);

/* Clinical model (gen_values.c).  The person's fixed traits come from one
 * stream, yearly drift from per-year streams. */
typedef struct gen_body {
    int sex;
    double age;          /* at the exam */
    int years_in;        /* year index (0 = first fiscal year) */
    int converter;       /* the institution's software adds interpretation codes,
                          * methods and its own reference ranges (gen_values.c) */
} gen_body;

void kb_gen_values_fill(uint64_t seed, long person, const gen_body *b, kb_exam *x);

#endif
