// The fused attention core in bfloat16: softmax(q·kᵀ·scale, masked)·v as one custom autograd function that keeps no
// probabilities for backward, its products run by ATen's bfloat16 batched matmul (oneDNN) over whole heads.
//
// Why: attention.cpp's float32 core runs its products on blocks of query positions, which in bfloat16 must be float32
// BLAS (oneDNN's bfloat16 matmul costs too much per call on blocks), and oneDNN's bfloat16 batched matmul over whole
// heads outruns those (LoRA bf16, Qwen3-0.6B shape, 8 layers: 208 against 238 tokens/s). But eager's products with
// the fused masked softmax between them keep the (B, H, S, T) bfloat16 probabilities for backward (8 MiB a layer at
// S = 512 for Qwen3-0.6B). Here forward forms them as eager does, in one (B, H, S, T) buffer it frees before
// returning, and keeps one RowStats per query row; backward forms the scores again by the same batched matmul (the
// same call on the same operands: the same bits) and the probabilities from them and the stats by the same row code.
//
// Grouped-query attention: the `groups` query heads sharing a key/value head are stacked along the rows,
// (B·nKV, groups·S, hd), as Attention.cs's eager path does, so keys and values are never repeated and each gradient
// is one product. Stacked row r of a key/value head is query head kv·groups + r / S at position r % S (HF's
// repeat_kv order), so the stacked scores are laid out (B, nH, S, T).
//
// Rounding as eager: scores = q·kᵀ in bfloat16, x = bf16(scores·scale), masked keys set to bfloat16's lowest value,
// softmax in float32, the probabilities cast to bfloat16, P·v in bfloat16. Backward: dV = Pᵀ·dO and dP = dO·vᵀ in
// bfloat16; softmax's backward in float32 on the float32 probabilities (what eager's softmax saves), then
// masked_fill's and the scaling's backward with their roundings (softmax_row_grad); dQ = dS·k and dK = dSᵀ·q in
// bfloat16.
//
// Memory: saved are q, k and v in the stacked layouts (the copies the products need anyway; the caller's own q, k
// and v can then go), the mask and the stats. Transient, in bfloat16: forward's scores, backward's scores and their
// gradient, each (B, H, S, T).
#include "attention.h"
#include "common.h"
#include "fused_rows.h"

#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cstring>
#include <vector>

using namespace fta;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

struct Dims {
    int64_t batch, queries, keys, heads, kv_heads, groups, head_dim;
};

Dims dims_of(const at::Tensor& q, const at::Tensor& k) {
    return {q.size(0), q.size(1), k.size(1), q.size(2), k.size(2), q.size(2) / k.size(2), q.size(3)};
}

// (B, S, nH, hd) → (B·nKV, groups·S, hd): the query heads sharing a key/value head stacked along the rows.
at::Tensor stack_queries(const at::Tensor& x, const Dims& d) {
    return x.reshape({d.batch, d.queries, d.kv_heads, d.groups, d.head_dim})
        .permute({0, 2, 3, 1, 4})
        .reshape({d.batch * d.kv_heads, d.groups * d.queries, d.head_dim});
}

// Its inverse: (B·nKV, groups·S, hd) → (B, S, nH, hd), contiguous.
at::Tensor unstack_queries(const at::Tensor& x, const Dims& d) {
    return x.view({d.batch, d.kv_heads, d.groups, d.queries, d.head_dim})
        .permute({0, 3, 1, 2, 4})
        .reshape({d.batch, d.queries, d.heads, d.head_dim})
        .contiguous();
}

// (B, T, nKV, hd) → (B·nKV, T, hd), and back (contiguous).
at::Tensor stack_keys(const at::Tensor& x, const Dims& d) { return x.transpose(1, 2).reshape({d.batch * d.kv_heads, d.keys, d.head_dim}); }

at::Tensor unstack_keys(const at::Tensor& x, const Dims& d) {
    return x.view({d.batch, d.kv_heads, d.keys, d.head_dim}).transpose(1, 2).contiguous();
}

inline uint16_t* bits_of(const at::Tensor& x) { return reinterpret_cast<uint16_t*>(x.data_ptr<c10::BFloat16>()); }

// The keys a row pass computes, from the row's key end (key_ends): those up to the last the query may attend to,
// rounded up to whole lanes of the row helpers' sums, or all of them when it may attend to none (uniform over every
// key). The keys after them have probability and gradient exactly 0 (key_ends), which the passes write directly; the
// sums over the computed keys take the same lanes in the same order as over the whole row would (the rest add exact
// zeros), so every bit is as a pass over the whole row gives it, at about half the work under a causal mask.
inline int64_t row_span(int64_t end, int64_t t) { return end == 0 ? t : std::min(t, (end + kLanes - 1) / kLanes * kLanes); }

// Forward's row pass over the scores (B·nKV, groups·S, T), in place: each row becomes its bfloat16 probabilities
// (softmax_row: scaled and rounded, masked, float32 softmax; then the cast) and its statistics go to stats, whose
// row order (B, nH, S) is the scores'.
void probabilities_in_place(const at::Tensor& scores, const uint8_t* mask, float scale, const Dims& d, RowStats* stats) {
    uint16_t* sp = bits_of(scores);
    const int64_t t = d.keys;
    const float lowest = lowest_of(at::kBFloat16);
    const auto ends = key_ends(mask, d.batch * d.queries, t);
    at::parallel_for(0, d.batch * d.heads * d.queries, 16, [&](int64_t begin, int64_t end) {
        std::vector<float> x(static_cast<size_t>(t)), p(static_cast<size_t>(t));
        for (int64_t r = begin; r < end; ++r) {
            int64_t row = r / (d.heads * d.queries) * d.queries + r % d.queries;  // the mask's (batch, query)
            int64_t n = row_span(ends[static_cast<size_t>(row)], t);
            uint16_t* s = sp + r * t;
            bf16_to_float(s, x.data(), n);
            stats[r] = softmax_row(x.data(), mask + row * t, scale, true, lowest, p.data(), n);
            float_to_bf16(p.data(), s, n);
            std::memset(s + n, 0, static_cast<size_t>(t - n) * sizeof(uint16_t));
        }
    });
}

// Backward's row pass, in place: the scores become forward's bfloat16 probabilities again (for dV), recomputed from
// them and the stats, and dP becomes the scores' gradient dS (softmax_row_grad on the float32 probabilities).
void score_gradient_in_place(const at::Tensor& scores, const at::Tensor& dprobs, const uint8_t* mask, float scale, const Dims& d,
                             const RowStats* stats) {
    uint16_t* sp = bits_of(scores);
    uint16_t* gp = bits_of(dprobs);
    const int64_t t = d.keys;
    const float lowest = lowest_of(at::kBFloat16);
    const auto ends = key_ends(mask, d.batch * d.queries, t);
    at::parallel_for(0, d.batch * d.heads * d.queries, 16, [&](int64_t begin, int64_t end) {
        std::vector<float> x(static_cast<size_t>(t)), p(static_cast<size_t>(t)), g(static_cast<size_t>(t));
        for (int64_t r = begin; r < end; ++r) {
            int64_t row = r / (d.heads * d.queries) * d.queries + r % d.queries;
            int64_t n = row_span(ends[static_cast<size_t>(row)], t);
            const uint8_t* allowed = mask + row * t;
            uint16_t *s = sp + r * t, *gr = gp + r * t;
            bf16_to_float(s, x.data(), n);
            softmax_row_recompute(x.data(), allowed, scale, true, lowest, stats[r], p.data(), n);
            bf16_to_float(gr, g.data(), n);
            softmax_row_grad(p.data(), g.data(), allowed, scale, true, x.data(), n);  // dS over the spent scores
            float_to_bf16(x.data(), gr, n);
            float_to_bf16(p.data(), s, n);
            std::memset(gr + n, 0, static_cast<size_t>(t - n) * sizeof(uint16_t));
            std::memset(s + n, 0, static_cast<size_t>(t - n) * sizeof(uint16_t));
        }
    });
}

inline at::Tensor scores_of(const at::Tensor& qs, const at::Tensor& ks) { return at::bmm(qs, ks.transpose(1, 2)); }

struct AttentionBf16Function : public torch::autograd::Function<AttentionBf16Function> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& query, const at::Tensor& key, const at::Tensor& value, const at::Tensor& allowed,
                              double scale) {
        // The products below are the ops of one autograd node in bfloat16: neither recorded nor autocast.
        at::NoGradGuard no_grad;
        c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKey::AutocastCPU);
        const Dims d = dims_of(query, key);
        auto mask = allowed.contiguous();
        auto qs = stack_queries(query, d), ks = stack_keys(key, d), vs = stack_keys(value, d);
        auto stats = at::empty({d.batch, d.heads, d.queries, 2}, query.options().dtype(at::kFloat));
        at::Tensor out;
        // No keys: softmax over an empty row gives nothing to sum, as eager's zero-size matmul.
        if (d.keys == 0 || query.numel() == 0) {
            out = at::zeros(query.sizes(), query.options());
        } else {
            auto scores = scores_of(qs, ks);  // (B·nKV, groups·S, T)
            probabilities_in_place(scores, reinterpret_cast<const uint8_t*>(mask.data_ptr<bool>()), static_cast<float>(scale), d,
                                   reinterpret_cast<RowStats*>(stats.data_ptr<float>()));
            out = unstack_queries(at::bmm(scores, vs), d);
        }
        ctx->save_for_backward({qs, ks, vs, mask, stats});
        ctx->saved_data["scale"] = scale;
        ctx->saved_data["dims"] = std::vector<int64_t>{d.batch, d.queries, d.keys, d.heads, d.kv_heads, d.groups, d.head_dim};
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        auto saved = ctx->get_saved_variables();
        const auto &qs = saved[0], &ks = saved[1], &vs = saved[2], &mask = saved[3], &stats = saved[4];
        const double scale = ctx->saved_data["scale"].toDouble();
        const auto n = ctx->saved_data["dims"].toIntVector();
        const Dims d{n[0], n[1], n[2], n[3], n[4], n[5], n[6]};
        at::NoGradGuard no_grad;
        c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKey::AutocastCPU);
        const auto opts = qs.options();
        if (d.keys == 0 || qs.numel() == 0)
            return {at::zeros({d.batch, d.queries, d.heads, d.head_dim}, opts), at::zeros({d.batch, d.keys, d.kv_heads, d.head_dim}, opts),
                    at::zeros({d.batch, d.keys, d.kv_heads, d.head_dim}, opts), at::Tensor(), at::Tensor()};
        auto dout = stack_queries(grads[0].to(at::kBFloat16), d);  // (B·nKV, groups·S, hd)
        auto scores = scores_of(qs, ks);                          // forward's bits again
        auto dprobs = at::bmm(dout, vs.transpose(1, 2));          // (B·nKV, groups·S, T)
        score_gradient_in_place(scores, dprobs, reinterpret_cast<const uint8_t*>(mask.data_ptr<bool>()), static_cast<float>(scale), d,
                                reinterpret_cast<const RowStats*>(stats.data_ptr<float>()));
        auto dv = unstack_keys(at::bmm(scores.transpose(1, 2), dout), d);
        scores.reset();  // the probabilities are spent: one (B, H, S, T) buffer fewer while the other two products run
        auto dq = unstack_queries(at::bmm(dprobs, ks), d);
        auto dk = unstack_keys(at::bmm(dprobs.transpose(1, 2), qs), d);
        return {dq, dk, dv, at::Tensor(), at::Tensor()};
    }
};

}  // namespace

at::Tensor fta::attention_bf16(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& allowed, double scale) {
    return AttentionBf16Function::apply(q, k, v, allowed, scale);
}
