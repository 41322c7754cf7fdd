// Fused attention core for training: softmax(q·kᵀ·scale, masked)·v as one custom autograd function that keeps no
// probabilities for backward. This file is the float32 core and the export; bfloat16 runs attention_bf16.cpp's.
//
// Why: the eager composition (matmul, scale, masked_fill, float32 softmax, cast, matmul), and the fused masked
// softmax that replaced its middle, keep the (B, H, S, T) probabilities for backward: the largest activation of a
// layer (16 MiB in float32 at S = 512 for Qwen3-0.6B). Here forward keeps one pair of floats per query row (the
// softmax's max and 1/Σ) and backward recomputes each block's probabilities from q, k and that pair, bit for bit
// as forward computed them (the same matmul on the same slices, the same row code). The matmuls run on a block of
// query positions of the heads sharing one key/value head at a time, so the transient memory is a few (block × T)
// buffers per thread.
//
// Rounding as eager: x = scores·scale, masked keys set to float32's lowest value, softmax, P·v. Backward: dP = dO·vᵀ;
// softmax's backward on the probabilities, then masked_fill's and the scaling's backward (softmax_row_grad);
// dQ = dS·k; dK = dSᵀ·q and dV = Pᵀ·dO summed over the query blocks and the heads sharing a key/value head, as the
// one matmul over the stacked heads that eager runs: the same arithmetic up to summation order.
//
// Why not bfloat16 too: its products would run in float32 here (bfloat16 values are exact in float32; oneDNN's
// bfloat16 matmul costs far more per call on blocks this small, measured 3× the time of the batched matmuls it
// replaces), and oneDNN's bfloat16 batched matmul over whole heads outruns those float32 blocks (LoRA bf16,
// Qwen3-0.6B shape, 8 layers: 208 against 238 tokens/s), so attention_bf16.cpp keeps oneDNN's products.
//
// Causal skipping: keys after the last key any row of a query block may attend to contribute exactly 0 (the
// lowest value minus the row's max is below −87, where exp flushes to 0) and get a zero gradient, so a block
// works on keys [0, kend) only. A block with a fully masked row (uniform over all T keys, as eager) takes them all.
#include "attention.h"
#include "common.h"
#include "fused_rows.h"

#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>

using namespace fta;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

// Query positions per block (times the heads sharing a key/value head: 128 matmul rows for Qwen3-0.6B): large enough
// that a block's matmuls keep BLAS efficient, small enough that causal skipping saves most of the masked half and
// the block's buffers stay in cache. 32 and 128 measured no better on 2 threads (within this shared machine's noise).
constexpr int64_t kQueryBlock = 64;

struct Dims {
    int64_t batch, queries, keys, heads, kv_heads, groups, head_dim;
};

// The keys a block of n query rows needs: up to the last any row may attend to; all of them when a row may attend
// to none (its probabilities are uniform over every key).
int64_t block_key_end(const int64_t* ends, int64_t n, int64_t t) {
    int64_t kend = 0;
    for (int64_t r = 0; r < n; ++r) {
        if (ends[r] == 0) return t;
        kend = std::max(kend, ends[r]);
    }
    return kend;
}

// An (n, len) matrix over the front of a scratch buffer.
inline at::Tensor front(const at::Tensor& buffer, int64_t n, int64_t len) { return buffer.narrow(0, 0, n * len).view({n, len}); }

// Runs body(begin, end) over the (batch, key/value head) pairs [begin, end), numbered batch-major. With at least two
// pairs per thread, the pairs go to the threads (each runs its matmuls single-threaded: one parallel region per call,
// where a block's small matmuls and row loops would each wait on every thread); otherwise one after another, each
// matmul and row loop using all threads. Measured on 2 threads at Qwen3-0.6B's shape (8 pairs, LoRA steps): the two
// are within this shared machine's noise (±15 %) of each other; the first has a single synchronisation point and so
// suffers least from a preempted thread.
template <class F> void for_each_kv_head(const Dims& d, F&& body) {
    int64_t pairs = d.batch * d.kv_heads;
    if (pairs >= 2 * at::get_num_threads())
        at::parallel_for(0, pairs, 1, body);
    else
        body(0, pairs);
}

// The rows of a block: the `groups` query heads sharing key/value head kv, each over the n query positions from s0,
// stacked head-major, (groups, n, hd) as a view of a (B, S, nH, hd) tensor.
inline at::Tensor block_heads(const at::Tensor& x, int64_t bi, int64_t kv, int64_t groups, int64_t s0, int64_t n) {
    return x[bi].narrow(0, s0, n).narrow(1, kv * groups, groups).transpose(0, 1);
}

void attention_forward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask, double scale, const Dims& d,
                       at::Tensor& out, at::Tensor& stats) {
    const float lowest = lowest_of(at::kFloat);
    const float fscale = static_cast<float>(scale);
    const uint8_t* mp = reinterpret_cast<const uint8_t*>(mask.data_ptr<bool>());
    const auto ends = key_ends(mp, d.batch * d.queries, d.keys);
    auto* sp = reinterpret_cast<RowStats*>(stats.data_ptr<float>());
    const int64_t block = std::min(kQueryBlock, d.queries);
    const int64_t most = d.groups * block;  // rows of a block
    auto fopts = q.options().dtype(at::kFloat);
    for_each_kv_head(d, [&](int64_t begin, int64_t end) {
        auto kf = at::empty({d.keys, d.head_dim}, fopts);
        auto vf = at::empty({d.keys, d.head_dim}, fopts);
        auto qs = at::empty({most * d.head_dim}, fopts);
        auto scores = at::empty({most * d.keys}, fopts);
        auto probs = at::empty({most * d.keys}, fopts);
        auto o = at::empty({most * d.head_dim}, fopts);
        for (int64_t item = begin; item < end; ++item) {
            int64_t bi = item / d.kv_heads, kv = item % d.kv_heads;
            kf.copy_(k[bi].select(1, kv));  // (T, hd)
            vf.copy_(v[bi].select(1, kv));
            for (int64_t s0 = 0; s0 < d.queries; s0 += block) {
                int64_t n = std::min(block, d.queries - s0), rows = d.groups * n;
                int64_t kend = block_key_end(ends.data() + bi * d.queries + s0, n, d.keys);
                auto qb = front(qs, rows, d.head_dim);
                qb.view({d.groups, n, d.head_dim}).copy_(block_heads(q, bi, kv, d.groups, s0, n));
                auto sc = front(scores, rows, kend);
                at::mm_out(sc, qb, kf.narrow(0, 0, kend).t());
                auto p = front(probs, rows, kend);
                at::parallel_for(0, rows, 4, [&](int64_t r0, int64_t r1) {
                    for (int64_t r = r0; r < r1; ++r) {
                        int64_t h = kv * d.groups + r / n, si = s0 + r % n;  // HF's repeat_kv order
                        float* x = sc.data_ptr<float>() + r * kend;
                        float* pr = p.data_ptr<float>() + r * kend;
                        sp[(bi * d.heads + h) * d.queries + si] = softmax_row(x, mp + (bi * d.queries + si) * d.keys, fscale, false, lowest, pr, kend);
                    }
                });
                auto ob = front(o, rows, d.head_dim);
                at::mm_out(ob, p, vf.narrow(0, 0, kend));
                block_heads(out, bi, kv, d.groups, s0, n).copy_(ob.view({d.groups, n, d.head_dim}));
            }
        }
    });
}

void attention_backward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask, const at::Tensor& stats,
                        const at::Tensor& dout, double scale, const Dims& d, at::Tensor& dq, at::Tensor& dk, at::Tensor& dv) {
    const float lowest = lowest_of(at::kFloat);
    const float fscale = static_cast<float>(scale);
    const uint8_t* mp = reinterpret_cast<const uint8_t*>(mask.data_ptr<bool>());
    const auto ends = key_ends(mp, d.batch * d.queries, d.keys);
    const auto* sp = reinterpret_cast<const RowStats*>(stats.data_ptr<float>());
    const int64_t block = std::min(kQueryBlock, d.queries);
    const int64_t most = d.groups * block;
    auto fopts = q.options().dtype(at::kFloat);
    for_each_kv_head(d, [&](int64_t begin, int64_t end) {
        auto kf = at::empty({d.keys, d.head_dim}, fopts);
        auto vf = at::empty({d.keys, d.head_dim}, fopts);
        auto qs = at::empty({most * d.head_dim}, fopts);
        auto dos = at::empty({most * d.head_dim}, fopts);
        auto scores = at::empty({most * d.keys}, fopts);
        auto dprobs = at::empty({most * d.keys}, fopts);
        auto probs = at::empty({most * d.keys}, fopts);
        auto dscores = at::empty({most * d.keys}, fopts);  // the scores' gradient
        auto dqs = at::empty({most * d.head_dim}, fopts);
        auto dk_sum = at::empty({d.keys, d.head_dim}, fopts);
        auto dv_sum = at::empty({d.keys, d.head_dim}, fopts);
        for (int64_t item = begin; item < end; ++item) {
            int64_t bi = item / d.kv_heads, kv = item % d.kv_heads;
            kf.copy_(k[bi].select(1, kv));  // (T, hd)
            vf.copy_(v[bi].select(1, kv));
            dk_sum.zero_();
            dv_sum.zero_();
            for (int64_t s0 = 0; s0 < d.queries; s0 += block) {
                int64_t n = std::min(block, d.queries - s0), rows = d.groups * n;
                int64_t kend = block_key_end(ends.data() + bi * d.queries + s0, n, d.keys);
                auto qb = front(qs, rows, d.head_dim);
                auto dob = front(dos, rows, d.head_dim);
                qb.view({d.groups, n, d.head_dim}).copy_(block_heads(q, bi, kv, d.groups, s0, n));
                dob.view({d.groups, n, d.head_dim}).copy_(block_heads(dout, bi, kv, d.groups, s0, n));
                auto kblk = kf.narrow(0, 0, kend);
                auto sc = front(scores, rows, kend);
                auto dp = front(dprobs, rows, kend);
                at::mm_out(sc, qb, kblk.t());
                at::mm_out(dp, dob, vf.narrow(0, 0, kend).t());
                auto p = front(probs, rows, kend);
                auto ds = front(dscores, rows, kend);
                at::parallel_for(0, rows, 4, [&](int64_t r0, int64_t r1) {
                    for (int64_t r = r0; r < r1; ++r) {
                        int64_t h = kv * d.groups + r / n, si = s0 + r % n;
                        const uint8_t* allowed = mp + (bi * d.queries + si) * d.keys;
                        float* x = sc.data_ptr<float>() + r * kend;
                        float* g = dp.data_ptr<float>() + r * kend;
                        float* pr = p.data_ptr<float>() + r * kend;
                        softmax_row_recompute(x, allowed, fscale, false, lowest, sp[(bi * d.heads + h) * d.queries + si], pr, kend);
                        softmax_row_grad(pr, g, allowed, fscale, false, ds.data_ptr<float>() + r * kend, kend);
                    }
                });
                auto dqb = front(dqs, rows, d.head_dim);
                at::mm_out(dqb, ds, kblk);
                block_heads(dq, bi, kv, d.groups, s0, n).copy_(dqb.view({d.groups, n, d.head_dim}));
                dk_sum.narrow(0, 0, kend).addmm_(ds.t(), qb);
                dv_sum.narrow(0, 0, kend).addmm_(p.t(), dob);
            }
            dk[bi].select(1, kv).copy_(dk_sum);
            dv[bi].select(1, kv).copy_(dv_sum);
        }
    });
}

struct AttentionFunction : public torch::autograd::Function<AttentionFunction> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& query, const at::Tensor& key, const at::Tensor& value, const at::Tensor& allowed,
                              double scale) {
        // The matmuls below are the ops of one autograd node in float32: neither recorded nor autocast.
        at::NoGradGuard no_grad;
        c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKey::AutocastCPU);
        auto q = query.contiguous(), k = key.contiguous(), v = value.contiguous(), mask = allowed.contiguous();
        Dims d{q.size(0), q.size(1), k.size(1), q.size(2), k.size(2), q.size(2) / k.size(2), q.size(3)};
        // No keys: softmax over an empty row gives nothing to sum, as eager's zero-size matmul.
        bool empty = d.keys == 0 || q.numel() == 0;
        auto out = empty ? at::zeros(q.sizes(), q.options()) : at::empty(q.sizes(), q.options());
        auto stats = at::empty({d.batch, d.heads, d.queries, 2}, q.options().dtype(at::kFloat));
        if (!empty) attention_forward(q, k, v, mask, scale, d, out, stats);
        ctx->save_for_backward({q, k, v, mask, stats});
        ctx->saved_data["scale"] = scale;
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        auto saved = ctx->get_saved_variables();
        auto q = saved[0], k = saved[1], v = saved[2], mask = saved[3], stats = saved[4];
        double scale = ctx->saved_data["scale"].toDouble();
        at::NoGradGuard no_grad;
        c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKey::AutocastCPU);
        auto dout = grads[0].to(q.scalar_type()).contiguous();
        Dims d{q.size(0), q.size(1), k.size(1), q.size(2), k.size(2), q.size(2) / k.size(2), q.size(3)};
        // Every element is written below (each query block, each key/value head) unless there is nothing to attend.
        bool empty = d.keys == 0 || q.numel() == 0;
        auto dq = empty ? at::zeros(q.sizes(), q.options()) : at::empty(q.sizes(), q.options());
        auto dk = empty ? at::zeros(k.sizes(), k.options()) : at::empty(k.sizes(), k.options());
        auto dv = empty ? at::zeros(v.sizes(), v.options()) : at::empty(v.sizes(), v.options());
        if (!empty) attention_backward(q, k, v, mask, stats, dout, scale, d, dq, dk, dv);
        return {dq, dk, dv, at::Tensor(), at::Tensor()};
    }
};

void check_arguments(const at::Tensor& query, const at::Tensor& key, const at::Tensor& value, const at::Tensor& allowed) {
    for (const auto& t : {query, key, value, allowed})
        if (!t.device().is_cpu() || t.is_sparse()) throw std::invalid_argument("attention: the fused kernel takes dense CPU tensors");
    if (query.dim() != 4 || key.dim() != 4 || value.sizes() != key.sizes() || key.size(0) != query.size(0) || key.size(3) != query.size(3) ||
        key.size(2) == 0 || query.size(2) % key.size(2) != 0)
        throw std::invalid_argument("attention: q must be (B, S, nH, hd) and k, v (B, T, nKV, hd) with nKV dividing nH");
    if (allowed.dim() != 4 || allowed.size(0) != query.size(0) || allowed.size(1) != 1 || allowed.size(2) != query.size(1) ||
        allowed.size(3) != key.size(1) || allowed.scalar_type() != at::kBool)
        throw std::invalid_argument("attention: allowed must be (B, 1, S, T) bool");
    auto st = query.scalar_type();
    if ((st != at::kFloat && st != at::kBFloat16) || key.scalar_type() != st || value.scalar_type() != st)
        throw std::invalid_argument("attention: q, k and v must all be float32 or all bfloat16");
}

}  // namespace

// Attention core (AttentionFunction in float32, attention_bf16 in bfloat16): softmax(q·kᵀ·scale, keys where allowed
// is false masked) in float32, cast to the inputs' dtype, times v. q (B, S, nH, hd), k and v (B, T, nKV, hd), allowed
// (B, 1, S, T) bool; the result is (B, S, nH, hd), contiguous.
FTA_EXPORT fta_status fta_fused_attention(fta_tensor q, fta_tensor k, fta_tensor v, fta_tensor allowed, double scale, fta_tensor* out) {
    return guard([&] {
        check_arguments(T(q), T(k), T(v), T(allowed));
        *out = wrap(T(q).scalar_type() == at::kBFloat16 ? attention_bf16(T(q), T(k), T(v), T(allowed), scale)
                                                        : AttentionFunction::apply(T(q), T(k), T(v), T(allowed), scale));
    });
}
