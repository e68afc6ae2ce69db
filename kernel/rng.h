/*
 * Random numbers for test data: splitmix64 (Steele, Lea and Flood, "Fast
 * Splittable Pseudorandom Number Generators", 2014), which is a dozen lines
 * and passes BigCrush, so kevlab writes it rather than carry a library.
 * Streams are seeded from the grader's seed and names (rng_seed), so a
 * seed reproduces a run's data exactly. Pure code, also built for the host.
 */
#ifndef KERNEL_RNG_H
#define KERNEL_RNG_H

#include "kernel/string.h"
#include "kernel/types.h"

struct rng {
    uint64_t state;
};

static inline uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A stream for (seed, name, index): FNV-1a of the name, mixed with both. */
static inline struct rng rng_seed(uint64_t seed, const char *name, uint64_t index)
{
    struct rng r = {seed ^ str_hash(name)};
    r.state ^= rng_next(&r) + index * 0xd1b54a32d192ed03ULL;
    rng_next(&r);
    return r;
}

/* Uniform in [lo, hi] (hi >= lo; the whole 64-bit range when lo = 0, hi = ~0). */
static inline uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
    uint64_t span = hi - lo + 1;
    if (span == 0)
        return rng_next(r);
    uint64_t limit = UINT64_MAX - UINT64_MAX % span; /* no modulo bias */
    uint64_t x;
    do
        x = rng_next(r);
    while (x >= limit);
    return lo + x % span;
}

/*
 * A 64-bit value drawn from the whole domain: with equal chances up to 8,
 * 16, 32 or 64 significant bits, so small and huge values both come up.
 */
static inline uint64_t rng_u64(struct rng *r)
{
    static const unsigned bits[4] = {8, 16, 32, 64};
    unsigned b = bits[rng_next(r) & 3];
    uint64_t x = rng_next(r);
    return b == 64 ? x : x & ((1ULL << b) - 1);
}

/* The edges of a 64-bit domain, forced into every run: value i of them. */
#define RNG_U64_EDGES 8
static inline uint64_t rng_u64_edge(unsigned i)
{
    static const uint64_t edges[RNG_U64_EDGES] = {
        0, 1, 0x7fffffffULL, 0x80000000ULL, 0x100000000ULL, 0x8000000000000000ULL,
        0x7fffffffffffffffULL, 0xffffffffffffffffULL,
    };
    return edges[i % RNG_U64_EDGES];
}

/* Fills n bytes with random ones (every byte value equally likely). */
static inline void rng_bytes(struct rng *r, uint8_t *buf, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x = rng_next(r);
        __builtin_memcpy(buf + i, &x, 8); /* one 8-byte store */
    }
    for (uint64_t x = rng_next(r); i < n; i++, x >>= 8)
        buf[i] = (uint8_t)x;
}

#endif
