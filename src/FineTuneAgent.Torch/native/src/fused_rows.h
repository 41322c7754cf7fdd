// Vectorised row helpers shared by the fused kernels (fused.cpp) and the fused attention (attention.cpp, attention_bf16.cpp).
// libtorch's bfloat16 scalar conversions and std::exp do not vectorise; these are plain float arithmetic and bit
// operations that GCC vectorises, built for AVX-512, AVX2 and plain x86-64 (picked at load time by
// target_clones). Rows are converted to float32 buffers, computed, and rounded back.
//
// Internal linkage (an anonymous namespace): each including file gets its own copy and its own load-time choice
// of clone. Include only from files built with -ffp-contract=off (CMakeLists.txt): the kernels round where the
// eager ops round, and a contracted a*b+c would not.
#pragma once
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace {


// bfloat16(v) as a float: round to nearest even, as ATen's float→bfloat16 cast (finite values).
inline float round_bf16(float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    bits += 0x7FFFu + ((bits >> 16) & 1u);
    bits &= 0xFFFF0000u;
    float r;
    std::memcpy(&r, &bits, sizeof r);
    return r;
}

// exp(x) to about 2 ulp for x in [−87, 88] (clamped there): x = n·ln2 + r, |r| ≤ ln2/2 (ln2 split in two for an
// exact product), e^r by its degree-6 Taylor polynomial, 2^n put in the exponent bits.
inline float exp_fast(float x) {
    // Two plain selects, each the max/min pattern the vectoriser turns into one instruction (a nested
    // conditional stays a branch and keeps the loop scalar).
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float n = std::floor(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693145751953125f;
    r = r - n * 1.42860682030941723212e-6f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

// exp(x) for x ≤ 0, flushing to 0 below −87 (where exp is under float32's smallest normal), as a masked logit's
// exp is in libtorch.
inline float exp_nonpositive(float x) {
    float e = exp_fast(x);
    return x < -87.0f ? 0.0f : e;
}

constexpr int kLanes = 16;

#define FTA_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// Runs the statements after it with the constexpr bool R set to flag: a loop-invariant rounding choice the
// vectoriser does not unswitch by itself (a runtime select there keeps the loop scalar).
#define FTA_WITH_FLAG(R, flag, ...) \
    if (flag) {                     \
        constexpr bool R = true;    \
        __VA_ARGS__                 \
    } else {                        \
        constexpr bool R = false;   \
        __VA_ARGS__                 \
    }

inline float rb(bool round, float v) { return round ? round_bf16(v) : v; }

FTA_CLONES float row_max(const float* x, int64_t n) {
    float lanes[kLanes];
    for (int j = 0; j < kLanes; ++j) lanes[j] = -std::numeric_limits<float>::infinity();
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (int j = 0; j < kLanes; ++j) lanes[j] = x[i + j] > lanes[j] ? x[i + j] : lanes[j];
    float m = -std::numeric_limits<float>::infinity();
    for (int j = 0; j < kLanes; ++j) m = lanes[j] > m ? lanes[j] : m;
    for (; i < n; ++i) m = x[i] > m ? x[i] : m;
    return m;
}

// x[i] ← exp(x[i] − m); returns Σ x[i] (in float64 across lanes).
FTA_CLONES double exp_shifted_sum(float* x, int64_t n, float m) {
    for (int64_t i = 0; i < n; ++i) x[i] = exp_nonpositive(x[i] - m);
    float lanes[kLanes] = {};
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (int j = 0; j < kLanes; ++j) lanes[j] += x[i + j];
    double sum = 0;
    for (int j = 0; j < kLanes; ++j) sum += lanes[j];
    for (; i < n; ++i) sum += x[i];
    return sum;
}

// bfloat16 rows to float32 and back (round to nearest even, as ATen's cast), vectorised. (maybe_unused: not every
// includer takes every helper.)
[[maybe_unused]] FTA_CLONES void bf16_to_float(const uint16_t* x, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        uint32_t bits = static_cast<uint32_t>(x[i]) << 16;
        std::memcpy(out + i, &bits, sizeof(float));
    }
}

[[maybe_unused]] FTA_CLONES void float_to_bf16(const float* x, uint16_t* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        uint32_t bits;
        std::memcpy(&bits, x + i, sizeof bits);
        bits += 0x7FFFu + ((bits >> 16) & 1u);
        out[i] = static_cast<uint16_t>(bits >> 16);
    }
}

// A softmax row's statistics: its max and the reciprocal of Σ exp(x − max), from which p = exp(x − max)·inv is
// recomputed bit for bit (the fused attention keeps these instead of the probabilities).
struct RowStats {
    float max;
    float inv;
};

// Scaled, masked softmax of one attention row: x = rS(scores·scale), masked keys set to the dtype's lowest
// value (as HF's masked_fill), softmax in float32 into p; returns the row's statistics. rS rounds to bfloat16
// when the scores are.
FTA_CLONES RowStats softmax_row(const float* __restrict scores, const uint8_t* __restrict allowed, float scale, bool round_s, float lowest,
                                float* __restrict p, int64_t t) {
    FTA_WITH_FLAG(RS, round_s,
        for (int64_t i = 0; i < t; ++i) {
            float v = rb(RS, scores[i] * scale);
            p[i] = allowed[i] ? v : lowest;
        })
    float m = row_max(p, t);
    double sum = exp_shifted_sum(p, t, m);
    float inv = static_cast<float>(1.0 / sum);
    for (int64_t i = 0; i < t; ++i) p[i] = p[i] * inv;
    return {m, inv};
}

// softmax_row's probabilities again from its statistics: the same operations in the same order, so the same bits.
[[maybe_unused]] FTA_CLONES void softmax_row_recompute(const float* __restrict scores, const uint8_t* __restrict allowed, float scale, bool round_s, float lowest,
                                      RowStats stats, float* __restrict p, int64_t t) {
    FTA_WITH_FLAG(RS, round_s,
        for (int64_t i = 0; i < t; ++i) {
            float v = rb(RS, scores[i] * scale);
            p[i] = allowed[i] ? v : lowest;
        })
    for (int64_t i = 0; i < t; ++i) p[i] = exp_nonpositive(p[i] - stats.max);
    for (int64_t i = 0; i < t; ++i) p[i] = p[i] * stats.inv;
}

// Its backward: d = rS(rS(p·(g − Σ g·p)) masked to 0) · scale, rounded again: softmax's backward in float32, the
// cast to the scores' dtype, masked_fill's and the scaling's backward, as eager runs them.
FTA_CLONES void softmax_row_grad(const float* __restrict p, const float* __restrict g, const uint8_t* __restrict allowed, float scale,
                                 bool round_s, float* __restrict d, int64_t t) {
    float lanes[kLanes] = {};
    int64_t full = t / kLanes * kLanes;
    for (int64_t i = 0; i < full; i += kLanes)
        for (int j = 0; j < kLanes; ++j) lanes[j] += g[i + j] * p[i + j];
    float dot = 0;
    for (int j = 0; j < kLanes; ++j) dot += lanes[j];
    for (int64_t i = full; i < t; ++i) dot += g[i] * p[i];
    FTA_WITH_FLAG(RS, round_s,
        for (int64_t i = 0; i < t; ++i) {
            float v = rb(RS, p[i] * (g[i] - dot));
            v = allowed[i] ? v : 0.0f;
            d[i] = rb(RS, v * scale);
        })
}

// Per (batch, query) of a (B, 1, S, T) mask's rows: 1 + the last key the query may attend to; 0 when it may attend
// to none. (The attention cores skip the keys after it: their probabilities are exactly 0, as the lowest value minus
// the row's max is below −87, where exp flushes to 0, and so are their gradients.)
inline std::vector<int64_t> key_ends(const uint8_t* mask, int64_t rows, int64_t t) {
    std::vector<int64_t> ends(static_cast<size_t>(rows));
    at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
            const uint8_t* m = mask + r * t;
            int64_t e = t;
            while (e > 0 && !m[e - 1]) --e;
            ends[static_cast<size_t>(r)] = e;
        }
    });
    return ends;
}

// The dtype's lowest value: what HF's masked_fill puts in masked scores.
inline float lowest_of(at::ScalarType t) {
    return t == at::kBFloat16 ? static_cast<float>(std::numeric_limits<c10::BFloat16>::lowest()) : std::numeric_limits<float>::lowest();
}

}  // namespace
