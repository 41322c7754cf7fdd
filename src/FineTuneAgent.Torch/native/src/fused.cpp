// Fused CPU kernels for the decoder's elementwise ops (RMSNorm, SwiGLU, rotary), each a custom autograd
// function, and the legacy autograd profiler.
//
// Why: in eager mode each of these is five to eight ATen ops, each a pass over memory, and autograd keeps
// several full-size intermediates alive for backward (RMSNorm keeps a float32 copy of its input, its square,
// the normalised value in two dtypes). Fused, each is one pass forward and one backward, and saves only its
// inputs (plus one float per row for RMSNorm).
//
// Every kernel rounds where the eager composition rounds (products and sums to the tensor dtype at the same
// points; this file is built with -ffp-contract=off so a*b+c is never contracted), so in float32 results agree
// with eager to the last bit except for summation order in reductions (RMSNorm's mean, its weight gradient).
// Only contiguous CPU tensors are fused; the C# side keeps the eager composition for anything else (CUDA
// tensors, other dtypes), so CUDA builds keep working unchanged.
#include "common.h"
#include "fused_rows.h"

#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

using namespace fta;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

using BF16 = c10::BFloat16;

// The arithmetic type of a storage type: double for double, float otherwise.
template <class T> using acc_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

// Rounds an arithmetic value to storage type T (bfloat16: round to nearest even, as ATen's casts).
template <class T, class A> inline T to(A v) { return static_cast<T>(v); }

inline bool fusable(const at::Tensor& t) { return t.device().is_cpu() && !t.is_sparse(); }

// The output dtype of a op between storage types T and W as eager promotion gives it for the combinations
// fused here: the same type, or bfloat16 with float32 → float32.
template <class T, class W> using out_t = std::conditional_t<std::is_same_v<T, W>, T, float>;

template <class F> void dispatch_pair(at::ScalarType x, at::ScalarType w, const char* op, F&& f) {
    using at::ScalarType;
    if (x == ScalarType::Float && w == ScalarType::Float) return f(float{}, float{});
    if (x == ScalarType::Double && w == ScalarType::Double) return f(double{}, double{});
    if (x == ScalarType::BFloat16 && w == ScalarType::BFloat16) return f(BF16{}, BF16{});
    if (x == ScalarType::BFloat16 && w == ScalarType::Float) return f(BF16{}, float{});
    throw std::invalid_argument(std::string(op) + ": unsupported dtypes " + c10::toString(x) + " and " + c10::toString(w));
}

// A row of T as float32: the row itself for float, else converted into buf.
template <class T> inline const float* load_row(const T* x, float* buf, int64_t n) {
    if constexpr (std::is_same_v<T, float>) {
        return x;
    } else {
        bf16_to_float(reinterpret_cast<const uint16_t*>(x), buf, n);
        return buf;
    }
}

template <class T> inline void store_row(const float* x, T* out, int64_t n) {
    if constexpr (std::is_same_v<T, float>) {
        if (x != out) std::memcpy(out, x, static_cast<size_t>(n) * sizeof(float));
    } else {
        float_to_bf16(x, reinterpret_cast<uint16_t*>(out), n);
    }
}

FTA_CLONES float sum_squares(const float* x, int64_t n) {
    float lanes[kLanes] = {};
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (int j = 0; j < kLanes; ++j) lanes[j] += x[i + j] * x[i + j];
    float sum = 0;
    for (int j = 0; j < kLanes; ++j) sum += lanes[j];
    for (; i < n; ++i) sum += x[i] * x[i];
    return sum;
}

// y = w·rT(x·s), then rO: the RMSNorm row with its two roundings (to the input's dtype, to the output's).
FTA_CLONES void rms_row(const float* x, const float* w, float s, bool round_n, bool round_y, float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        float v = x[i] * s;
        v = round_n ? round_bf16(v) : v;
        float o = w[i] * v;
        y[i] = round_y ? round_bf16(o) : o;
    }
}

// First half of a RMSNorm row's backward: g = rT(rO(dy·w)) (the gradient reaching n, in n's dtype),
// dw += rO(dy·rT(x·s)); returns Σ g·(x·s). (round_o implies round_n: bfloat16 out only from bfloat16 in.)
FTA_CLONES float rms_row_grad(const float* x, const float* w, const float* dy, float s, bool round_n, bool round_o, float* g, float* dw, int64_t n) {
    float lanes[kLanes] = {};
    int64_t full = n / kLanes * kLanes;
    FTA_WITH_FLAG(RN, round_n, FTA_WITH_FLAG(RO, round_o,
        for (int64_t i = 0; i < full; i += kLanes) {
            for (int j = 0; j < kLanes; ++j) {
                int64_t k = i + j;
                float v = x[k] * s;
                float gv = rb(RN, rb(RO, dy[k] * w[k]));
                g[k] = gv;
                dw[k] += rb(RO, dy[k] * rb(RN, v));
                lanes[j] += gv * v;
            }
        }))
    float dot = 0;
    for (int j = 0; j < kLanes; ++j) dot += lanes[j];
    for (int64_t k = full; k < n; ++k) {
        float v = x[k] * s;
        float gv = rb(round_n, rb(round_o, dy[k] * w[k]));
        g[k] = gv;
        dw[k] += rb(round_o, dy[k] * rb(round_n, v));
        dot += gv * v;
    }
    return dot;
}

// Second half: dx = rT(s·(g − (x·s)·mean)).
FTA_CLONES void rms_row_dx(const float* x, const float* g, float s, float mean, bool round_n, float* dx, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        float v = s * (g[i] - (x[i] * s) * mean);
        dx[i] = round_n ? round_bf16(v) : v;
    }
}

// SwiGLU forward on a block: y = r(r(g / (1 + e^−g)) · u), with r rounding to bfloat16 when the tensors are.
FTA_CLONES void swiglu_block(const float* g, const float* u, bool round, float* y, int64_t n) {
    FTA_WITH_FLAG(R, round,
        for (int64_t i = 0; i < n; ++i) {
            float sv = rb(R, g[i] / (1.0f + exp_fast(-g[i])));
            y[i] = rb(R, sv * u[i]);
        })
}

// SwiGLU backward on a block (ATen's mul and silu_backward with their roundings).
FTA_CLONES void swiglu_block_grad(const float* g, const float* u, const float* dy, bool round, float* dg, float* du, int64_t n) {
    FTA_WITH_FLAG(R, round,
        for (int64_t i = 0; i < n; ++i) {
            float e = exp_fast(-g[i]);
            float sig = 1.0f / (1.0f + e);
            float sv = rb(R, g[i] / (1.0f + e));
            float ds = rb(R, dy[i] * u[i]);
            du[i] = rb(R, dy[i] * sv);
            dg[i] = rb(R, ds * sig * (1.0f + g[i] * (1.0f - sig)));
        })
}

// Rotary on one head row: y₁ = rO(rO(x₁c₁) + rO(−x₂s₁)), y₂ = rO(rO(x₂c₂) + rO(x₁s₂)).
FTA_CLONES void rotary_row(const float* __restrict x, const float* __restrict c, const float* __restrict s, bool round_o, float* __restrict y, int64_t half) {
    FTA_WITH_FLAG(R, round_o,
        for (int64_t i = 0; i < half; ++i) {
            y[i] = rb(R, rb(R, x[i] * c[i]) + rb(R, -x[i + half] * s[i]));
            y[i + half] = rb(R, rb(R, x[i + half] * c[i + half]) + rb(R, x[i] * s[i + half]));
        })
}

// Rotary backward on one head row: a = rT(rO(dy·c)), q = rT(rO(dy·s)); dx₁ = rT(a₁ + q₂), dx₂ = rT(a₂ − q₁).
FTA_CLONES void rotary_row_grad(const float* __restrict dy, const float* __restrict c, const float* __restrict s, bool round_o, bool round_t, float* __restrict dx, int64_t half) {
    FTA_WITH_FLAG(RO, round_o, FTA_WITH_FLAG(RT, round_t,
        for (int64_t i = 0; i < half; ++i) {
            float a1 = rb(RT, rb(RO, dy[i] * c[i])), a2 = rb(RT, rb(RO, dy[i + half] * c[i + half]));
            float q1 = rb(RT, rb(RO, dy[i] * s[i])), q2 = rb(RT, rb(RO, dy[i + half] * s[i + half]));
            dx[i] = rb(RT, a1 + q2);
            dx[i + half] = rb(RT, a2 - q1);
        }))
}

// ---------------------------------------------------------------------------------------------------------
// RMSNorm (Qwen3RMSNorm / LlamaRMSNorm): n = x·rsqrt(mean(x²) + eps) in float32, rounded to x's dtype, then
// y = w·n in the promoted dtype.

template <class T, class W>
void rms_forward(const T* x, const W* w, out_t<T, W>* y, float* rstd, int64_t rows, int64_t h, double eps) {
    using A = acc_t<T>;
    using O = out_t<T, W>;
    if constexpr (!std::is_same_v<T, double>) {
        std::vector<float> wbuf(static_cast<size_t>(h));
        const float* wf = load_row<W>(w, wbuf.data(), h);
        at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
            std::vector<float> xbuf(static_cast<size_t>(h)), ybuf(static_cast<size_t>(h));
            for (int64_t r = begin; r < end; ++r) {
                const float* xf = load_row<T>(x + r * h, xbuf.data(), h);
                float sv = 1.0f / std::sqrt(sum_squares(xf, h) / static_cast<float>(h) + static_cast<float>(eps));
                rstd[r] = sv;
                rms_row(xf, wf, sv, std::is_same_v<T, BF16>, std::is_same_v<O, BF16>, ybuf.data(), h);
                store_row<O>(ybuf.data(), y + r * h, h);
            }
        });
        return;
    }
    at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
            const T* xr = x + r * h;
            O* yr = y + r * h;
            A sum = 0;
            for (int64_t i = 0; i < h; ++i) {
                A v = static_cast<A>(xr[i]);
                sum += v * v;
            }
            A s = static_cast<A>(1) / std::sqrt(sum / static_cast<A>(h) + static_cast<A>(eps));
            rstd[r] = static_cast<float>(s);
            for (int64_t i = 0; i < h; ++i) {
                T n = to<T>(static_cast<A>(xr[i]) * s);
                yr[i] = to<O>(static_cast<acc_t<O>>(w[i]) * static_cast<acc_t<O>>(n));
            }
        }
    });
}

template <class T, class W>
void rms_backward(const T* x, const W* w, const out_t<T, W>* dy, const float* rstd, T* dx, double* dw_partial, int64_t rows, int64_t h,
                  int64_t chunks) {
    using A = acc_t<T>;
    using O = out_t<T, W>;
    using AO = acc_t<O>;
    if constexpr (!std::is_same_v<T, double>) {
        std::vector<float> wbuf(static_cast<size_t>(h));
        const float* wf = load_row<W>(w, wbuf.data(), h);
        at::parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
            std::vector<float> xbuf(static_cast<size_t>(h)), dybuf(static_cast<size_t>(h)), g(static_cast<size_t>(h)), dxbuf(static_cast<size_t>(h)),
                dw(static_cast<size_t>(h));
            for (int64_t c = cb; c < ce; ++c) {
                std::fill(dw.begin(), dw.end(), 0.0f);
                int64_t r0 = rows * c / chunks, r1 = rows * (c + 1) / chunks;
                for (int64_t r = r0; r < r1; ++r) {
                    const float* xf = load_row<T>(x + r * h, xbuf.data(), h);
                    const float* dyf = load_row<O>(dy + r * h, dybuf.data(), h);
                    float sv = rstd[r];
                    float dot = rms_row_grad(xf, wf, dyf, sv, std::is_same_v<T, BF16>, std::is_same_v<O, BF16>, g.data(), dw.data(), h);
                    rms_row_dx(xf, g.data(), sv, dot / static_cast<float>(h), std::is_same_v<T, BF16>, dxbuf.data(), h);
                    store_row<T>(dxbuf.data(), dx + r * h, h);
                }
                double* dwc = dw_partial + c * h;
                for (int64_t i = 0; i < h; ++i) dwc[i] = dw[static_cast<size_t>(i)];
            }
        });
        return;
    }
    // Rows in `chunks` contiguous ranges; chunk c sums its rows' weight gradient into dw_partial[c·h …].
    at::parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
        std::vector<A> dn(static_cast<size_t>(h));
        for (int64_t c = cb; c < ce; ++c) {
            int64_t r0 = rows * c / chunks, r1 = rows * (c + 1) / chunks;
            double* dwc = dw_partial + c * h;
            for (int64_t r = r0; r < r1; ++r) {
                const T* xr = x + r * h;
                const O* dyr = dy + r * h;
                T* dxr = dx + r * h;
                A s = static_cast<A>(rstd[r]);
                A dot = 0;
                for (int64_t i = 0; i < h; ++i) {
                    A xv = static_cast<A>(xr[i]);
                    T n = to<T>(xv * s);
                    // d(w·n)/dn in the output dtype, then as n's dtype (autograd casts a gradient to its input's dtype).
                    A g = static_cast<A>(to<T>(to<O>(static_cast<AO>(dyr[i]) * static_cast<AO>(w[i]))));
                    dn[static_cast<size_t>(i)] = g;
                    dot += g * (xv * s);
                    dwc[i] += static_cast<double>(to<O>(static_cast<AO>(dyr[i]) * static_cast<AO>(n)));
                }
                A mean = dot / static_cast<A>(h);
                for (int64_t i = 0; i < h; ++i) {
                    A nv = static_cast<A>(xr[i]) * s;
                    dxr[i] = to<T>(s * (dn[static_cast<size_t>(i)] - nv * mean));
                }
            }
        }
    });
}

struct RmsNormFunction : public torch::autograd::Function<RmsNormFunction> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& weight, double eps) {
        auto x = input.contiguous();
        auto w = weight.contiguous();
        int64_t h = x.size(-1);
        if (w.dim() != 1 || w.size(0) != h) throw std::invalid_argument("rms_norm: weight must have the input's last size");
        int64_t rows = h == 0 ? 0 : x.numel() / h;
        auto rstd = at::empty({rows}, x.options().dtype(at::kFloat));
        at::Tensor y;
        dispatch_pair(x.scalar_type(), w.scalar_type(), "rms_norm", [&](auto tx, auto tw) {
            using T = decltype(tx);
            using W = decltype(tw);
            y = at::empty(x.sizes(), x.options().dtype(c10::CppTypeToScalarType<out_t<T, W>>::value));
            rms_forward<T, W>(x.data_ptr<T>(), w.data_ptr<W>(), y.data_ptr<out_t<T, W>>(), rstd.data_ptr<float>(), rows, h, eps);
        });
        ctx->save_for_backward({x, w, rstd});
        return y;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        auto saved = ctx->get_saved_variables();
        auto x = saved[0], w = saved[1], rstd = saved[2];
        auto dy = grads[0].contiguous();
        int64_t h = x.size(-1);
        int64_t rows = h == 0 ? 0 : x.numel() / h;
        int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(rows, 4 * at::get_num_threads()));
        auto dx = at::empty(x.sizes(), x.options());
        auto partial = at::zeros({chunks, h}, x.options().dtype(at::kDouble));
        dispatch_pair(x.scalar_type(), w.scalar_type(), "rms_norm backward", [&](auto tx, auto tw) {
            using T = decltype(tx);
            using W = decltype(tw);
            auto dyc = dy.to(c10::CppTypeToScalarType<out_t<T, W>>::value).contiguous();
            rms_backward<T, W>(x.data_ptr<T>(), w.data_ptr<W>(), dyc.template data_ptr<out_t<T, W>>(), rstd.data_ptr<float>(), dx.data_ptr<T>(),
                               partial.data_ptr<double>(), rows, h, chunks);
        });
        auto dw = w.requires_grad() ? partial.sum(0).to(w.scalar_type()) : at::Tensor();
        return {dx, dw, at::Tensor()};
    }
};

// ---------------------------------------------------------------------------------------------------------
// SwiGLU's product: y = silu(g)·u, silu rounded to g's dtype first (two eager ops: silu, mul).

template <class T> inline acc_t<T> sigmoid(acc_t<T> v) { return static_cast<acc_t<T>>(1) / (static_cast<acc_t<T>>(1) + std::exp(-v)); }

template <class T> void swiglu_forward(const T* g, const T* u, T* y, int64_t n) {
    using A = acc_t<T>;
    if constexpr (!std::is_same_v<T, double>) {
        constexpr int64_t block = 2048;
        at::parallel_for(0, (n + block - 1) / block, 1, [&](int64_t b, int64_t e) {
            std::vector<float> gb(block), ub(block), yb(block);
            for (int64_t k = b; k < e; ++k) {
                int64_t at0 = k * block, len = std::min(block, n - at0);
                const float* gf = load_row<T>(g + at0, gb.data(), len);
                const float* uf = load_row<T>(u + at0, ub.data(), len);
                swiglu_block(gf, uf, std::is_same_v<T, BF16>, yb.data(), len);
                store_row<T>(yb.data(), y + at0, len);
            }
        });
        return;
    }
    at::parallel_for(0, n, 4096, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
            A gv = static_cast<A>(g[i]);
            // ATen's silu: x / (1 + exp(−x)).
            T s = to<T>(gv / (static_cast<A>(1) + std::exp(-gv)));
            y[i] = to<T>(static_cast<A>(s) * static_cast<A>(u[i]));
        }
    });
}

template <class T> void swiglu_backward(const T* g, const T* u, const T* dy, T* dg, T* du, int64_t n) {
    using A = acc_t<T>;
    if constexpr (!std::is_same_v<T, double>) {
        constexpr int64_t block = 2048;
        at::parallel_for(0, (n + block - 1) / block, 1, [&](int64_t b, int64_t e) {
            std::vector<float> gb(block), ub(block), db(block), dgb(block), dub(block);
            for (int64_t k = b; k < e; ++k) {
                int64_t at0 = k * block, len = std::min(block, n - at0);
                const float* gf = load_row<T>(g + at0, gb.data(), len);
                const float* uf = load_row<T>(u + at0, ub.data(), len);
                const float* df = load_row<T>(dy + at0, db.data(), len);
                swiglu_block_grad(gf, uf, df, std::is_same_v<T, BF16>, dgb.data(), dub.data(), len);
                store_row<T>(dgb.data(), dg + at0, len);
                store_row<T>(dub.data(), du + at0, len);
            }
        });
        return;
    }
    at::parallel_for(0, n, 4096, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
            A gv = static_cast<A>(g[i]);
            A sig = sigmoid<T>(gv);
            T s = to<T>(gv / (static_cast<A>(1) + std::exp(-gv)));
            A d = static_cast<A>(dy[i]);
            T ds = to<T>(d * static_cast<A>(u[i]));
            du[i] = to<T>(d * static_cast<A>(s));
            // ATen's silu_backward: dy · σ · (1 + x·(1 − σ)), left to right.
            dg[i] = to<T>(static_cast<A>(ds) * sig * (static_cast<A>(1) + gv * (static_cast<A>(1) - sig)));
        }
    });
}

template <class F> void dispatch_one(at::ScalarType t, const char* op, F&& f) {
    if (t == at::ScalarType::Float) return f(float{});
    if (t == at::ScalarType::Double) return f(double{});
    if (t == at::ScalarType::BFloat16) return f(BF16{});
    throw std::invalid_argument(std::string(op) + ": unsupported dtype " + c10::toString(t));
}

struct SwigluFunction : public torch::autograd::Function<SwigluFunction> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& gate, const at::Tensor& up) {
        if (gate.sizes() != up.sizes() || gate.scalar_type() != up.scalar_type())
            throw std::invalid_argument("swiglu: gate and up must have the same shape and dtype");
        auto g = gate.contiguous();
        auto u = up.contiguous();
        auto y = at::empty(g.sizes(), g.options());
        dispatch_one(g.scalar_type(), "swiglu", [&](auto t) {
            using T = decltype(t);
            swiglu_forward<T>(g.data_ptr<T>(), u.data_ptr<T>(), y.data_ptr<T>(), g.numel());
        });
        ctx->save_for_backward({g, u});
        return y;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        auto saved = ctx->get_saved_variables();
        auto g = saved[0], u = saved[1];
        auto dy = grads[0].to(g.scalar_type()).contiguous();
        auto dg = at::empty(g.sizes(), g.options());
        auto du = at::empty(u.sizes(), u.options());
        dispatch_one(g.scalar_type(), "swiglu backward", [&](auto t) {
            using T = decltype(t);
            swiglu_backward<T>(g.data_ptr<T>(), u.data_ptr<T>(), dy.data_ptr<T>(), dg.data_ptr<T>(), du.data_ptr<T>(), g.numel());
        });
        return {dg, du};
    }
};

// ---------------------------------------------------------------------------------------------------------
// Rotary embedding on x (B, S, heads, d) with cos/sin (B, S, d): y = x·cos + rotate_half(x)·sin, where
// rotate_half(x) = cat(−x₂, x₁). Products and the sum are rounded to the promoted dtype as eager does.

template <class T, class C>
void rotary_apply(const T* x, const C* cos, const C* sin, out_t<T, C>* y, int64_t bs, int64_t heads, int64_t d) {
    using O = out_t<T, C>;
    using AO = acc_t<O>;
    int64_t half = d / 2;
    if constexpr (!std::is_same_v<T, double>) {
        at::parallel_for(0, bs, 4, [&](int64_t b, int64_t e) {
            std::vector<float> cb(static_cast<size_t>(d)), sb(static_cast<size_t>(d)), xb(static_cast<size_t>(d)), yb(static_cast<size_t>(d));
            for (int64_t p = b; p < e; ++p) {
                const float* cf = load_row<C>(cos + p * d, cb.data(), d);
                const float* sf = load_row<C>(sin + p * d, sb.data(), d);
                for (int64_t head = 0; head < heads; ++head) {
                    int64_t row = p * heads + head;
                    const float* xf = load_row<T>(x + row * d, xb.data(), d);
                    rotary_row(xf, cf, sf, std::is_same_v<O, BF16>, yb.data(), half);
                    store_row<O>(yb.data(), y + row * d, d);
                }
            }
        });
        return;
    }
    at::parallel_for(0, bs * heads, 64, [&](int64_t b, int64_t e) {
        for (int64_t row = b; row < e; ++row) {
            int64_t p = row / heads;  // the (batch, position) this head row belongs to
            const T* xr = x + row * d;
            const C* c = cos + p * d;
            const C* s = sin + p * d;
            O* yr = y + row * d;
            for (int64_t i = 0; i < half; ++i) {
                O a = to<O>(static_cast<AO>(xr[i]) * static_cast<AO>(c[i]));
                O r = to<O>(static_cast<AO>(-xr[i + half]) * static_cast<AO>(s[i]));
                yr[i] = to<O>(static_cast<AO>(a) + static_cast<AO>(r));
                O a2 = to<O>(static_cast<AO>(xr[i + half]) * static_cast<AO>(c[i + half]));
                O r2 = to<O>(static_cast<AO>(xr[i]) * static_cast<AO>(s[i + half]));
                yr[i + half] = to<O>(static_cast<AO>(a2) + static_cast<AO>(r2));
            }
        }
    });
}

template <class T, class C>
void rotary_backward(const out_t<T, C>* dy, const C* cos, const C* sin, T* dx, int64_t bs, int64_t heads, int64_t d) {
    using O = out_t<T, C>;
    using AO = acc_t<O>;
    using A = acc_t<T>;
    int64_t half = d / 2;
    if constexpr (!std::is_same_v<T, double>) {
        at::parallel_for(0, bs, 4, [&](int64_t b, int64_t e) {
            std::vector<float> cb(static_cast<size_t>(d)), sb(static_cast<size_t>(d)), gb(static_cast<size_t>(d)), xb(static_cast<size_t>(d));
            for (int64_t p = b; p < e; ++p) {
                const float* cf = load_row<C>(cos + p * d, cb.data(), d);
                const float* sf = load_row<C>(sin + p * d, sb.data(), d);
                for (int64_t head = 0; head < heads; ++head) {
                    int64_t row = p * heads + head;
                    const float* gf = load_row<O>(dy + row * d, gb.data(), d);
                    rotary_row_grad(gf, cf, sf, std::is_same_v<O, BF16>, std::is_same_v<T, BF16>, xb.data(), half);
                    store_row<T>(xb.data(), dx + row * d, d);
                }
            }
        });
        return;
    }
    at::parallel_for(0, bs * heads, 64, [&](int64_t b, int64_t e) {
        for (int64_t row = b; row < e; ++row) {
            int64_t p = row / heads;
            const O* g = dy + row * d;
            const C* c = cos + p * d;
            const C* s = sin + p * d;
            T* dxr = dx + row * d;
            for (int64_t i = 0; i < half; ++i) {
                // Through x·cos (cast to x's dtype) and through rotate_half(x)·sin: the second half of dr reaches x₁,
                // the first half reaches x₂ negated.
                T a1 = to<T>(to<O>(static_cast<AO>(g[i]) * static_cast<AO>(c[i])));
                T a2 = to<T>(to<O>(static_cast<AO>(g[i + half]) * static_cast<AO>(c[i + half])));
                T r1 = to<T>(to<O>(static_cast<AO>(g[i]) * static_cast<AO>(s[i])));
                T r2 = to<T>(to<O>(static_cast<AO>(g[i + half]) * static_cast<AO>(s[i + half])));
                dxr[i] = to<T>(static_cast<A>(a1) + static_cast<A>(r2));
                dxr[i + half] = to<T>(static_cast<A>(a2) - static_cast<A>(r1));
            }
        }
    });
}

struct RotaryFunction : public torch::autograd::Function<RotaryFunction> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& cos, const at::Tensor& sin) {
        if (input.dim() != 4 || cos.dim() != 3 || cos.sizes() != sin.sizes() || cos.size(0) != input.size(0) || cos.size(1) != input.size(1) ||
            cos.size(2) != input.size(3) || input.size(3) % 2 != 0 || cos.scalar_type() != sin.scalar_type())
            throw std::invalid_argument("rotary: x must be (B, S, heads, d) with d even and cos/sin (B, S, d) of one dtype");
        auto x = input.contiguous();
        auto c = cos.contiguous();
        auto s = sin.contiguous();
        at::Tensor y;
        dispatch_pair(x.scalar_type(), c.scalar_type(), "rotary", [&](auto tx, auto tc) {
            using T = decltype(tx);
            using C = decltype(tc);
            y = at::empty(x.sizes(), x.options().dtype(c10::CppTypeToScalarType<out_t<T, C>>::value));
            rotary_apply<T, C>(x.data_ptr<T>(), c.data_ptr<C>(), s.data_ptr<C>(), y.data_ptr<out_t<T, C>>(), x.size(0) * x.size(1), x.size(2), x.size(3));
        });
        ctx->save_for_backward({c, s});
        ctx->saved_data["dtype"] = static_cast<int64_t>(x.scalar_type());
        return y;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        auto saved = ctx->get_saved_variables();
        auto c = saved[0], s = saved[1];
        auto xtype = static_cast<at::ScalarType>(ctx->saved_data["dtype"].toInt());
        auto dy = grads[0];
        auto dx = at::empty(dy.sizes(), dy.options().dtype(xtype));
        dispatch_pair(xtype, c.scalar_type(), "rotary backward", [&](auto tx, auto tc) {
            using T = decltype(tx);
            using C = decltype(tc);
            auto g = dy.to(c10::CppTypeToScalarType<out_t<T, C>>::value).contiguous();
            rotary_backward<T, C>(g.template data_ptr<out_t<T, C>>(), c.data_ptr<C>(), s.data_ptr<C>(), dx.data_ptr<T>(), dy.size(0) * dy.size(1), dy.size(2), dy.size(3));
        });
        return {dx, at::Tensor(), at::Tensor()};
    }
};

// ---------------------------------------------------------------------------------------------------------
// Cross-entropy with its gradient, from logits (N, V) in one call: what nll_loss(log_softmax(logits.float()))
// and its backward compute, without the float32 copy of the logits, the log-softmax tensor or the autograd
// nodes. Libtorch 1.13's CPU log_softmax runs scalar exp (about 2 ns an element here) and the bfloat16→float32
// copy another 1.3 ns; for a 151,936-row vocabulary that was a sixth of a LoRA step.

FTA_CLONES void scale_to_float(const float* x, int64_t n, float factor, float* out) {
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] * factor;
}

// out = bfloat16(x·factor).
FTA_CLONES void scale_to_bf16(const float* x, int64_t n, float factor, uint16_t* out) {
    for (int64_t i = 0; i < n; ++i) {
        float v = x[i] * factor;
        uint32_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        bits += 0x7FFFu + ((bits >> 16) & 1u);
        out[i] = static_cast<uint16_t>(bits >> 16);
    }
}

// One row: returns log Σ exp(x) − x[target]; writes (softmax(x) − onehot(target))·scale into grad unless grad is
// null. grad may be x itself: the row is read into work before anything is written.
template <class T>
double ce_row(const T* x, int64_t v, int64_t target, float scale, float* work, T* grad) {
    const float* xf;
    if constexpr (std::is_same_v<T, BF16>) {
        bf16_to_float(reinterpret_cast<const uint16_t*>(x), work, v);
        xf = work;
    } else {
        xf = x;
    }
    float target_logit = xf[target];
    float m = row_max(xf, v);
    if constexpr (!std::is_same_v<T, BF16>) std::memcpy(work, xf, static_cast<size_t>(v) * sizeof(float));
    double sum = exp_shifted_sum(work, v, m);
    double loss = static_cast<double>(m) + std::log(sum) - static_cast<double>(target_logit);
    if (grad == nullptr) return loss;
    float factor = static_cast<float>(scale / sum);
    float target_softmax = work[target];
    if constexpr (std::is_same_v<T, BF16>)
        scale_to_bf16(work, v, factor, reinterpret_cast<uint16_t*>(grad));
    else
        scale_to_float(work, v, factor, grad);
    grad[target] = static_cast<T>(target_softmax * factor - scale);
    return loss;
}

void require_cpu(const at::Tensor& t, const char* op);

// Where cross_entropy_with_grad puts the gradient: nowhere (the loss only), a new tensor, or over the logits
// themselves (a chunk's logits are not needed once their gradient exists: the projection's backward reads its
// input and weight, so writing over them saves a logits-sized buffer).
enum class GradTo : int32_t { None = 0, NewTensor = 1, Logits = 2 };

at::Tensor cross_entropy_with_grad(const at::Tensor& input, const at::Tensor& targets, double scale, GradTo to, at::Tensor& grad, int64_t ignore_index) {
    if (input.dim() != 2 || targets.dim() != 1 || targets.size(0) != input.size(0) || targets.scalar_type() != at::kLong)
        throw std::invalid_argument("cross_entropy_with_grad: logits must be (N, V) and targets (N) int64");
    if (to == GradTo::Logits && !input.is_contiguous())
        throw std::invalid_argument("cross_entropy_with_grad: the gradient goes over the logits only when they are contiguous");
    auto x = input.contiguous();
    auto t = targets.contiguous();
    int64_t n = x.size(0), v = x.size(1);
    const int64_t* tp = t.data_ptr<int64_t>();
    for (int64_t r = 0; r < n; ++r)
        if (tp[r] != ignore_index && (tp[r] < 0 || tp[r] >= v))
            throw std::out_of_range("cross_entropy_with_grad: target " + std::to_string(tp[r]) + " of row " + std::to_string(r) + " is outside 0.." + std::to_string(v - 1));
    grad = to == GradTo::NewTensor ? at::empty({n, v}, x.options()) : to == GradTo::Logits ? x : at::Tensor();
    // Written through the data pointer: bumping the version makes autograd refuse, instead of silently reading the
    // gradient, if some node saved these logits for its backward.
    if (to == GradTo::Logits) x.unsafeGetTensorImpl()->bump_version();
    std::vector<double> losses(static_cast<size_t>(n), 0.0);
    auto run = [&](auto tag) {
        using T = decltype(tag);
        const T* xp = x.data_ptr<T>();
        T* gp = grad.defined() ? grad.data_ptr<T>() : nullptr;
        at::parallel_for(0, n, 1, [&](int64_t b, int64_t e) {
            std::vector<float> work(static_cast<size_t>(v));
            for (int64_t r = b; r < e; ++r) {
                if (tp[r] == ignore_index) {
                    if (gp != nullptr) std::fill(gp + r * v, gp + (r + 1) * v, static_cast<T>(0.0f));
                    continue;
                }
                losses[static_cast<size_t>(r)] = ce_row<T>(xp + r * v, v, tp[r], static_cast<float>(scale), work.data(), gp != nullptr ? gp + r * v : nullptr);
            }
        });
    };
    if (x.scalar_type() == at::kFloat) run(float{});
    else if (x.scalar_type() == at::kBFloat16) run(BF16{});
    else throw std::invalid_argument(std::string("cross_entropy_with_grad: unsupported dtype ") + c10::toString(x.scalar_type()));
    double total = 0;
    for (double l : losses) total += l;
    return at::scalar_tensor(total, x.options().dtype(at::kDouble));
}

// ---------------------------------------------------------------------------------------------------------
// Attention probabilities: softmax(scores·scale masked) in float32, as the output dtype. scores (B, H, S, T) in
// float32 or bfloat16, allowed (B, 1, S, T) bool (true: the query may attend to the key). Backward reads the
// result itself: eager's float32 probabilities when the result is float32, its bfloat16 rounding otherwise.
// Training and evaluation forwards take the whole attention core instead (attention.cpp), which keeps no
// probabilities; this remains for generation with a KV cache and for attention dropout.

struct MaskedSoftmaxFunction : public torch::autograd::Function<MaskedSoftmaxFunction> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& scores, const at::Tensor& allowed, double scale, int64_t out_dtype) {
        if (scores.dim() != 4 || allowed.dim() != 4 || allowed.size(0) != scores.size(0) || allowed.size(1) != 1 || allowed.size(2) != scores.size(2) ||
            allowed.size(3) != scores.size(3) || allowed.scalar_type() != at::kBool)
            throw std::invalid_argument("masked_softmax: scores must be (B, H, S, T) and allowed (B, 1, S, T) bool");
        auto st = scores.scalar_type();
        auto ot = static_cast<at::ScalarType>(out_dtype);
        if ((st != at::kFloat && st != at::kBFloat16) || (ot != at::kFloat && ot != at::kBFloat16))
            throw std::invalid_argument("masked_softmax: scores and result must be float32 or bfloat16");
        auto x = scores.contiguous();
        auto mask = allowed.contiguous();
        int64_t b = x.size(0), h = x.size(1), sq = x.size(2), t = x.size(3);
        // The result is what backward reads (in bfloat16 too: the matmul with the values saves this same tensor, so
        // a separate float32 copy would double the largest activation of a layer; the gradient is rounded to the
        // scores' dtype afterwards anyway).
        auto out = at::empty(x.sizes(), x.options().dtype(ot));
        const uint8_t* mp = reinterpret_cast<const uint8_t*>(mask.data_ptr<bool>());
        float lowest = lowest_of(st);
        bool round_s = st == at::kBFloat16;
        at::parallel_for(0, b * h * sq, 16, [&](int64_t begin, int64_t end) {
            std::vector<float> buf(static_cast<size_t>(t)), row(static_cast<size_t>(t));
            for (int64_t r = begin; r < end; ++r) {
                int64_t bi = r / (h * sq), si = r % sq;
                const float* xf = st == at::kFloat ? x.data_ptr<float>() + r * t
                                                   : (bf16_to_float(reinterpret_cast<const uint16_t*>(x.data_ptr<BF16>()) + r * t, buf.data(), t), buf.data());
                float* pr = ot == at::kFloat ? out.data_ptr<float>() + r * t : row.data();
                softmax_row(xf, mp + (bi * sq + si) * t, static_cast<float>(scale), round_s, lowest, pr, t);
                if (ot == at::kBFloat16) float_to_bf16(pr, reinterpret_cast<uint16_t*>(out.data_ptr<BF16>()) + r * t, t);
            }
        });
        ctx->save_for_backward({out, mask});
        ctx->saved_data["scale"] = scale;
        ctx->saved_data["dtype"] = static_cast<int64_t>(st);
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        auto saved = ctx->get_saved_variables();
        auto probs = saved[0], mask = saved[1];
        double scale = ctx->saved_data["scale"].toDouble();
        auto st = static_cast<at::ScalarType>(ctx->saved_data["dtype"].toInt());
        auto g = grads[0].to(at::kFloat).contiguous();
        int64_t b = probs.size(0), h = probs.size(1), sq = probs.size(2), t = probs.size(3);
        auto d = at::empty(probs.sizes(), probs.options().dtype(at::kFloat));
        const uint8_t* mp = reinterpret_cast<const uint8_t*>(mask.data_ptr<bool>());
        bool round_s = st == at::kBFloat16;
        bool bf16_probs = probs.scalar_type() == at::kBFloat16;
        at::parallel_for(0, b * h * sq, 16, [&](int64_t begin, int64_t end) {
            std::vector<float> row(static_cast<size_t>(t));
            for (int64_t r = begin; r < end; ++r) {
                int64_t bi = r / (h * sq), si = r % sq;
                const float* pr = bf16_probs
                    ? (bf16_to_float(reinterpret_cast<const uint16_t*>(probs.data_ptr<BF16>()) + r * t, row.data(), t), row.data())
                    : probs.data_ptr<float>() + r * t;
                softmax_row_grad(pr, g.data_ptr<float>() + r * t, mp + (bi * sq + si) * t, static_cast<float>(scale), round_s, d.data_ptr<float>() + r * t, t);
            }
        });
        return {st == at::kFloat ? d : d.to(st), at::Tensor(), at::Tensor(), at::Tensor()};
    }
};

void require_cpu(const at::Tensor& t, const char* op) {
    if (!fusable(t)) throw std::invalid_argument(std::string(op) + ": the fused kernel takes dense CPU tensors");
}

}  // namespace

FTA_EXPORT fta_status fta_fused_rms_norm(fta_tensor x, fta_tensor weight, double eps, fta_tensor* out) {
    return guard([&] {
        require_cpu(T(x), "rms_norm");
        require_cpu(T(weight), "rms_norm");
        *out = wrap(RmsNormFunction::apply(T(x), T(weight), eps));
    });
}

FTA_EXPORT fta_status fta_fused_swiglu(fta_tensor gate, fta_tensor up, fta_tensor* out) {
    return guard([&] {
        require_cpu(T(gate), "swiglu");
        require_cpu(T(up), "swiglu");
        *out = wrap(SwigluFunction::apply(T(gate), T(up)));
    });
}

FTA_EXPORT fta_status fta_fused_rotary(fta_tensor x, fta_tensor cos, fta_tensor sin, fta_tensor* out) {
    return guard([&] {
        require_cpu(T(x), "rotary");
        require_cpu(T(cos), "rotary");
        *out = wrap(RotaryFunction::apply(T(x), T(cos), T(sin)));
    });
}

// The legacy autograd profiler: records every ATen op (CPU time, shapes) until stopped, then writes a
// Chrome trace (JSON) to the path given.
FTA_EXPORT fta_status fta_profiler_start(const char* path, void** handle) {
    return guard([&] {
        if (path == nullptr) throw std::invalid_argument("profiler: path is null");
        *handle = new torch::autograd::profiler::RecordProfile(std::string(path));
    });
}

FTA_EXPORT fta_status fta_profiler_stop(void* handle) {
    return guard([&] { delete static_cast<torch::autograd::profiler::RecordProfile*>(handle); });
}

// Σ over rows of cross-entropy(logits[r], targets[r]) (rows whose target is ignore_index count 0), as float64,
// and the gradient of scale·that sum with respect to the logits, in the logits' dtype: grad_to 0 computes no
// gradient (*grad is null), 1 returns it as a new tensor, 2 writes it over the logits (contiguous; *grad is then
// null too — the logits hold it). No autograd node: the caller backpropagates the gradient through whatever
// produced the logits.
FTA_EXPORT fta_status fta_fused_cross_entropy_with_grad(fta_tensor logits, fta_tensor targets, double scale, int64_t ignore_index, int32_t grad_to,
                                                        fta_tensor* loss, fta_tensor* grad) {
    return guard([&] {
        require_cpu(T(logits), "cross_entropy_with_grad");
        if (grad_to < 0 || grad_to > 2) throw std::invalid_argument("cross_entropy_with_grad: grad_to must be 0, 1 or 2");
        at::NoGradGuard no_grad;
        at::Tensor g;
        auto to = static_cast<GradTo>(grad_to);
        auto l = cross_entropy_with_grad(T(logits), T(targets), scale, to, g, ignore_index);
        *loss = wrap(l);
        *grad = to == GradTo::NewTensor ? wrap(g) : nullptr;
    });
}

// Attention probabilities (see MaskedSoftmaxFunction): softmax(scores·scale, keys where allowed is false masked)
// in float32, returned as out_dtype.
FTA_EXPORT fta_status fta_fused_masked_softmax(fta_tensor scores, fta_tensor allowed, double scale, int32_t out_dtype, fta_tensor* out) {
    return guard([&] {
        require_cpu(T(scores), "masked_softmax");
        require_cpu(T(allowed), "masked_softmax");
        *out = wrap(MaskedSoftmaxFunction::apply(T(scores), T(allowed), scale, static_cast<int64_t>(dtype(out_dtype))));
    });
}
