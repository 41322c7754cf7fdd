// Blockwise quantization of linear weights for QLoRA, after bitsandbytes (FACTS §5): NF4 4-bit
// with per-block fp32 absmax (optionally itself 8-bit quantized, "double quantization"), 8-bit
// blockwise quantization with a 256-entry code, LLM.int8-style row-wise absmax int8, and linear
// ops whose autograd node keeps only the quantized tensors.
//
// CPU tensors take raw loops over blocks (at::parallel_for); every other device takes the ATen
// path, which gives identical bytes (tests run both on CPU via fta_quant_set_portable). This file
// is compiled with -ffp-contract=off (CMakeLists.txt) so that a*b+c rounds twice, as the ATen ops
// (and bitsandbytes) do.
#include "common.h"

#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <array>
#include <cmath>

using namespace fta;

namespace {

// bitsandbytes get_4bit_type("nf4"); index = 4-bit code, sorted ascending.
constexpr float kNf4[16] = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
    -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
    0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
    0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
};

// Set by fta_quant_set_portable: take the ATen path on CPU too (tests compare the two paths).
thread_local bool t_portable = false;

bool fast_path(const at::Tensor& t) { return t.device().is_cpu() && !t_portable; }

std::string n2s(int64_t v) { return std::to_string(v); }

// bitsandbytes accepts 32, 64, ..., 4096.
void check_blocksize(int64_t blocksize, const char* name) {
    if (blocksize < 32 || blocksize > 4096 || (blocksize & (blocksize - 1)) != 0)
        throw std::invalid_argument(std::string(name) + " must be one of 32, 64, 128, 256, 512, 1024, 2048, 4096, got " + n2s(blocksize));
}

void check_defined(const at::Tensor& t, const char* name) {
    if (!t.defined()) throw std::invalid_argument(std::string(name) + " is an undefined tensor");
}

// Weights to quantize: the dtypes bitsandbytes takes.
void check_weight_dtype(const at::Tensor& t, const char* name) {
    check_defined(t, name);
    auto s = t.scalar_type();
    if (s != at::kFloat && s != at::kBFloat16 && s != at::kHalf)
        throw std::invalid_argument(std::string(name) + " must be float32, bfloat16 or float16, got " + c10::toString(s));
    if (t.numel() == 0) throw std::invalid_argument(std::string(name) + " must not be empty");
}

// Dequantized values and linear inputs: any floating dtype (float64 for gradient checks).
void check_float_dtype(at::ScalarType s, const char* name) {
    if (s != at::kFloat && s != at::kDouble && s != at::kBFloat16 && s != at::kHalf)
        throw std::invalid_argument(std::string(name) + " must be float32, float64, bfloat16 or float16, got " + c10::toString(s));
}

void check_dtype(const at::Tensor& t, at::ScalarType s, const char* name) {
    check_defined(t, name);
    if (t.scalar_type() != s)
        throw std::invalid_argument(std::string(name) + " must be " + c10::toString(s) + ", got " + c10::toString(t.scalar_type()));
}

void check_numel(const at::Tensor& t, int64_t n, const char* name) {
    if (t.numel() != n) throw std::invalid_argument(std::string(name) + " must have " + n2s(n) + " elements, got " + n2s(t.numel()));
}

// The CPU loops read every state tensor through raw pointers: they must share one device.
void check_device(const at::Tensor& t, const at::Tensor& reference, const char* name, const char* reference_name) {
    if (t.defined() && t.device() != reference.device())
        throw std::invalid_argument(std::string(name) + " is on " + t.device().str() + " but " + reference_name + " on " + reference.device().str());
}

// Scale constants are float32; a module cast to bf16 casts them too, so convert back here.
at::Tensor f32(const at::Tensor& t, const char* name) {
    check_defined(t, name);
    if (!at::isFloatingType(t.scalar_type()))
        throw std::invalid_argument(std::string(name) + " must be a floating tensor, got " + c10::toString(t.scalar_type()));
    return t.to(at::kFloat).contiguous();
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Blocks per parallel chunk: ~32K elements, as ATen's GRAIN_SIZE.
int64_t grain(int64_t blocksize) { return std::max<int64_t>(1, 32768 / blocksize); }

// Number of midpoints strictly below v: torch.bucketize(v, midpoints, right=False).
inline int bucket(const float* mids, int count, float v) {
    int lo = 0, hi = count;
    while (lo < hi) {
        int mid = (lo + hi) >> 1;
        if (mids[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

// (code[k] + code[k+1]) / 2 in float32, as the reference computes it with tensors.
std::vector<float> midpoints(const float* code, int64_t count) {
    std::vector<float> m(static_cast<size_t>(count - 1));
    for (int64_t k = 0; k + 1 < count; ++k) m[k] = (code[k] + code[k + 1]) / 2.0f;
    return m;
}

at::Tensor midpoints(const at::Tensor& code) { return (code.slice(0, 0, -1) + code.slice(0, 1)) / 2; }

at::Tensor nf4_code(const at::Device& device) {
    return at::tensor(at::ArrayRef<float>(kNf4, 16), at::TensorOptions().dtype(at::kFloat)).to(device);
}

// Block b of a flattened tensor scaled into [-1, 1] by its absmax; a block of zeros scales to 0.
template <typename T, typename Emit>
void quantize_blocks(const T* x, int64_t n, int64_t blocksize, const float* mids, int mid_count, float* absmax, Emit emit) {
    const int64_t blocks = ceil_div(n, blocksize);
    at::parallel_for(0, blocks, grain(blocksize), [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
            const int64_t start = b * blocksize, end = std::min(n, start + blocksize);
            float amax = 0.0f;
            for (int64_t i = start; i < end; ++i) amax = std::max(amax, std::fabs(static_cast<float>(x[i])));
            absmax[b] = amax;
            for (int64_t i = start; i < end; ++i) {
                float scaled = amax > 0.0f ? static_cast<float>(x[i]) / amax : 0.0f;
                scaled = std::min(1.0f, std::max(-1.0f, scaled));
                emit(i, bucket(mids, mid_count, scaled));
            }
        }
    });
}

// The ATen path of the above: codes (one uint8 per element) and absmax.
std::tuple<at::Tensor, at::Tensor> quantize_blocks_aten(const at::Tensor& input, const at::Tensor& code, int64_t blocksize) {
    const int64_t n = input.numel(), blocks = ceil_div(n, blocksize);
    auto flat = input.reshape(-1).to(at::kFloat);
    auto padded = at::constant_pad_nd(flat, {0, blocks * blocksize - n}).view({blocks, blocksize});  // (blocks, blocksize)
    auto absmax = padded.abs().amax(1);
    auto scaled = at::where(absmax.unsqueeze(1) > 0, padded / absmax.unsqueeze(1), at::zeros_like(padded)).clamp(-1, 1);
    auto q = at::bucketize(scaled.reshape(-1).slice(0, 0, n), midpoints(code.to(at::kFloat)), false, false).to(at::kByte);
    return {q, absmax};
}

// ---- NF4 -------------------------------------------------------------------------------------

std::tuple<at::Tensor, at::Tensor> nf4_quantize(const at::Tensor& input, int64_t blocksize) {
    check_weight_dtype(input, "input");
    check_blocksize(blocksize, "blocksize");
    const int64_t n = input.numel(), blocks = ceil_div(n, blocksize), bytes = (n + 1) / 2;
    if (fast_path(input)) {
        auto x = input.contiguous();
        auto packed = at::zeros({bytes, 1}, at::TensorOptions().dtype(at::kByte));
        auto absmax = at::empty({blocks}, at::TensorOptions().dtype(at::kFloat));
        auto mids = midpoints(kNf4, 16);
        uint8_t* p = packed.data_ptr<uint8_t>();
        AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "fta_nf4_quantize", [&] {
            // Blocks hold an even number of elements, so no byte is shared between two chunks.
            quantize_blocks(x.data_ptr<scalar_t>(), n, blocksize, mids.data(), 15, absmax.data_ptr<float>(), [p](int64_t i, int code) {
                if ((i & 1) == 0) p[i >> 1] = static_cast<uint8_t>(code << 4);
                else p[i >> 1] |= static_cast<uint8_t>(code);
            });
        });
        return {packed, absmax};
    }
    auto [q, absmax] = quantize_blocks_aten(input, nf4_code(input.device()), blocksize);
    if (n % 2 == 1) q = at::cat({q, at::zeros({1}, q.options())});  // pad with code 0
    auto pairs = q.view({-1, 2});                                    // (bytes, 2): first element high
    auto packed = at::bitwise_or(at::bitwise_left_shift(pairs.select(1, 0), 4), pairs.select(1, 1));
    return {packed.reshape({bytes, 1}), absmax};
}

// 8-bit blockwise dequantization: code[q] * absmax[block] (float32).
at::Tensor blockwise_dequantize(const at::Tensor& q, const at::Tensor& absmax_in, const at::Tensor& code_in, int64_t blocksize, at::ScalarType dtype);

// The NF4 state of one weight. nested_* are defined with double quantization, where absmax
// holds uint8 codes of (absmax - offset) under the 256-entry nested code.
struct Nf4State {
    at::Tensor packed, absmax, nested_absmax, nested_code, nested_offset;
    int64_t blocksize = 64, nested_blocksize = 256;
    std::vector<int64_t> shape;

    bool nested() const { return nested_absmax.defined(); }

    int64_t numel() const {
        int64_t n = 1;
        for (auto d : shape) n *= d;
        return n;
    }

    void validate() const {
        check_blocksize(blocksize, "blocksize");
        for (auto d : shape)
            if (d < 0) throw std::invalid_argument("shape has a negative dimension");
        const int64_t n = numel();
        check_dtype(packed, at::kByte, "packed");
        check_numel(packed, (n + 1) / 2, "packed (two 4-bit codes per byte)");
        check_defined(absmax, "absmax");
        check_numel(absmax, ceil_div(n, blocksize), "absmax (one per block)");
        check_device(absmax, packed, "absmax", "packed");
        check_device(nested_absmax, packed, "nested_absmax", "packed");
        check_device(nested_code, packed, "nested_code", "packed");
        check_device(nested_offset, packed, "nested_offset", "packed");
        if (!nested()) {
            if (nested_code.defined() || nested_offset.defined())
                throw std::invalid_argument("nested_code and nested_offset need nested_absmax");
            return;
        }
        check_blocksize(nested_blocksize, "nested_blocksize");
        check_dtype(absmax, at::kByte, "absmax (double quantized)");
        check_defined(nested_code, "nested_code");
        check_numel(nested_code, 256, "nested_code");
        check_numel(nested_absmax, ceil_div(absmax.numel(), nested_blocksize), "nested_absmax (one per nested block)");
        check_defined(nested_offset, "nested_offset");
        check_numel(nested_offset, 1, "nested_offset");
    }

    // The per-block float32 absmax: stored, or code[q] * absmax2 + offset with double quantization.
    at::Tensor block_absmax() const {
        if (!nested()) return f32(absmax, "absmax");
        auto a = blockwise_dequantize(absmax, nested_absmax, nested_code, nested_blocksize, at::kFloat);
        return a + f32(nested_offset, "nested_offset").reshape({});
    }
};

std::array<std::array<float, 2>, 256> make_nf4_lut() {
    std::array<std::array<float, 2>, 256> lut{};
    for (int b = 0; b < 256; ++b) lut[b] = {kNf4[b >> 4], kNf4[b & 15]};
    return lut;
}

at::Tensor nf4_dequantize(const Nf4State& s, at::ScalarType dtype) {
    s.validate();
    check_float_dtype(dtype, "dtype");
    const int64_t n = s.numel(), blocks = ceil_div(n, s.blocksize);
    auto absmax = s.block_absmax();
    if (fast_path(s.packed)) {
        static const auto lut = make_nf4_lut();
        auto packed = s.packed.contiguous();
        auto out = at::empty(s.shape, at::TensorOptions().dtype(dtype));
        const uint8_t* p = packed.data_ptr<uint8_t>();
        const float* a = absmax.data_ptr<float>();
        const int64_t bs = s.blocksize;
        AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, dtype, "fta_nf4_dequantize", [&] {
            scalar_t* o = out.data_ptr<scalar_t>();
            at::parallel_for(0, blocks, grain(bs), [&](int64_t b0, int64_t b1) {
                for (int64_t b = b0; b < b1; ++b) {
                    const float scale = a[b];
                    const int64_t end = std::min(n, (b + 1) * bs);
                    int64_t i = b * bs;
                    for (; i + 1 < end; i += 2) {
                        const auto& pair = lut[p[i >> 1]];
                        o[i] = static_cast<scalar_t>(pair[0] * scale);
                        o[i + 1] = static_cast<scalar_t>(pair[1] * scale);
                    }
                    if (i < end) o[i] = static_cast<scalar_t>(lut[p[i >> 1]][0] * scale);
                }
            });
        });
        return out;
    }
    auto flat = s.packed.reshape(-1);
    auto codes = at::stack({at::bitwise_right_shift(flat, 4), at::bitwise_and(flat, 15)}, 1).reshape(-1).slice(0, 0, n);
    auto values = nf4_code(flat.device()).index_select(0, codes.to(at::kLong));
    auto scaled = at::constant_pad_nd(values, {0, blocks * s.blocksize - n}).view({blocks, s.blocksize}) * absmax.unsqueeze(1);
    return scaled.reshape(-1).slice(0, 0, n).to(dtype).reshape(s.shape);
}

// ---- 8-bit blockwise (the nested absmax of double quantization) ------------------------------

// The 256-entry code as contiguous float32 (a module cast to bf16 casts it too).
at::Tensor code_f32(const at::Tensor& code) {
    auto c = f32(code, "code");
    if (c.dim() != 1) throw std::invalid_argument("code must be one-dimensional");
    check_numel(c, 256, "code (an 8-bit map)");
    return c;
}

std::tuple<at::Tensor, at::Tensor> blockwise_quantize(const at::Tensor& input, const at::Tensor& code, int64_t blocksize) {
    check_defined(input, "input");
    check_float_dtype(input.scalar_type(), "input");
    if (input.numel() == 0) throw std::invalid_argument("input must not be empty");
    auto code32 = code_f32(code);
    check_blocksize(blocksize, "blocksize");
    const int64_t n = input.numel(), blocks = ceil_div(n, blocksize);
    if (fast_path(input)) {
        auto x = input.contiguous();
        auto c = code32.to(at::kCPU);
        auto mids = midpoints(c.data_ptr<float>(), 256);
        auto q = at::empty(input.sizes(), at::TensorOptions().dtype(at::kByte));
        auto absmax = at::empty({blocks}, at::TensorOptions().dtype(at::kFloat));
        uint8_t* qp = q.data_ptr<uint8_t>();
        AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "fta_blockwise_quantize", [&] {
            quantize_blocks(x.data_ptr<scalar_t>(), n, blocksize, mids.data(), 255, absmax.data_ptr<float>(),
                            [qp](int64_t i, int k) { qp[i] = static_cast<uint8_t>(k); });
        });
        return {q, absmax};
    }
    auto [q, absmax] = quantize_blocks_aten(input, code32, blocksize);
    return {q.reshape(input.sizes()), absmax};
}

at::Tensor blockwise_dequantize(const at::Tensor& q, const at::Tensor& absmax_in, const at::Tensor& code_in, int64_t blocksize, at::ScalarType dtype) {
    check_dtype(q, at::kByte, "q");
    auto code32 = code_f32(code_in);
    check_blocksize(blocksize, "blocksize");
    check_float_dtype(dtype, "dtype");
    const int64_t n = q.numel(), blocks = ceil_div(n, blocksize);
    auto absmax = f32(absmax_in, "absmax");
    check_numel(absmax, blocks, "absmax (one per block)");
    check_device(absmax, q, "absmax", "q");
    check_device(code32, q, "code", "q");
    if (fast_path(q)) {
        auto qc = q.contiguous();
        auto code = code32.to(at::kCPU);
        auto out = at::empty(q.sizes(), at::TensorOptions().dtype(dtype));
        const uint8_t* qp = qc.data_ptr<uint8_t>();
        const float* c = code.data_ptr<float>();
        const float* a = absmax.data_ptr<float>();
        AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, dtype, "fta_blockwise_dequantize", [&] {
            scalar_t* o = out.data_ptr<scalar_t>();
            at::parallel_for(0, blocks, grain(blocksize), [&](int64_t b0, int64_t b1) {
                for (int64_t b = b0; b < b1; ++b) {
                    const int64_t end = std::min(n, (b + 1) * blocksize);
                    for (int64_t i = b * blocksize; i < end; ++i) o[i] = static_cast<scalar_t>(c[qp[i]] * a[b]);
                }
            });
        });
        return out;
    }
    auto values = code32.index_select(0, q.reshape(-1).to(at::kLong));
    auto scaled = at::constant_pad_nd(values, {0, blocks * blocksize - n}).view({blocks, blocksize}) * absmax.unsqueeze(1);
    return scaled.reshape(-1).slice(0, 0, n).to(dtype).reshape(q.sizes());
}

// ---- int8 row-wise absmax --------------------------------------------------------------------

// bitsandbytes int8_vectorwise_quant with threshold 0: q = round(W * (127 / row_stats)), where
// Python computes 127 / t as reciprocal(t) * 127. A row of zeros gives q = 0.
std::tuple<at::Tensor, at::Tensor> int8_quantize(const at::Tensor& input) {
    check_weight_dtype(input, "input");
    if (input.dim() != 2) throw std::invalid_argument("input must be two-dimensional (out_features, in_features), got " + n2s(input.dim()) + " dimensions");
    const int64_t rows = input.size(0), cols = input.size(1);
    if (fast_path(input)) {
        auto x = input.contiguous();
        auto q = at::empty({rows, cols}, at::TensorOptions().dtype(at::kChar));
        auto stats = at::empty({rows}, at::TensorOptions().dtype(at::kFloat));
        int8_t* qp = q.data_ptr<int8_t>();
        float* sp = stats.data_ptr<float>();
        AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "fta_int8_quantize", [&] {
            const scalar_t* xp = x.data_ptr<scalar_t>();
            at::parallel_for(0, rows, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, cols)), [&](int64_t r0, int64_t r1) {
                for (int64_t r = r0; r < r1; ++r) {
                    const scalar_t* row = xp + r * cols;
                    float amax = 0.0f;
                    for (int64_t j = 0; j < cols; ++j) amax = std::max(amax, std::fabs(static_cast<float>(row[j])));
                    sp[r] = amax;
                    const float scale = (1.0f / amax) * 127.0f;
                    for (int64_t j = 0; j < cols; ++j)
                        qp[r * cols + j] = amax > 0.0f ? static_cast<int8_t>(std::nearbyint(static_cast<float>(row[j]) * scale)) : int8_t{0};
                }
            });
        });
        return {q, stats};
    }
    auto stats = input.abs().amax(1).to(at::kFloat);
    auto scale = (at::reciprocal(stats) * 127.0).unsqueeze(1);
    auto q = at::round(input.to(at::kFloat) * scale);
    q = at::where(stats.unsqueeze(1) > 0, q, at::zeros_like(q)).to(at::kChar);
    return {q, stats};
}

// q * row_stats * (1/127), in that order, as int8_vectorwise_dequant.
at::Tensor int8_dequantize(const at::Tensor& q, const at::Tensor& stats_in, at::ScalarType dtype) {
    check_dtype(q, at::kChar, "q");
    if (q.dim() != 2) throw std::invalid_argument("q must be two-dimensional, got " + n2s(q.dim()) + " dimensions");
    check_float_dtype(dtype, "dtype");
    auto stats = f32(stats_in, "row_stats");
    check_numel(stats, q.size(0), "row_stats (one per row)");
    check_device(stats, q, "row_stats", "q");
    constexpr float kInv127 = 7.874015718698502e-3f;
    if (fast_path(q)) {
        auto qc = q.contiguous();
        const int64_t rows = q.size(0), cols = q.size(1);
        auto out = at::empty({rows, cols}, at::TensorOptions().dtype(dtype));
        const int8_t* qp = qc.data_ptr<int8_t>();
        const float* sp = stats.data_ptr<float>();
        AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, dtype, "fta_int8_dequantize", [&] {
            scalar_t* o = out.data_ptr<scalar_t>();
            at::parallel_for(0, rows, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, cols)), [&](int64_t r0, int64_t r1) {
                for (int64_t r = r0; r < r1; ++r)
                    for (int64_t j = 0; j < cols; ++j)
                        o[r * cols + j] = static_cast<scalar_t>(static_cast<float>(qp[r * cols + j]) * sp[r] * kInv127);
            });
        });
        return out;
    }
    return (q.to(at::kFloat) * stats.unsqueeze(1) * static_cast<double>(kInv127)).to(dtype);
}

// ---- linear ops ------------------------------------------------------------------------------

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

void check_linear_input(const at::Tensor& x, int64_t in_features) {
    check_defined(x, "input");
    check_float_dtype(x.scalar_type(), "input");
    if (x.dim() < 1 || x.size(-1) != in_features)
        throw std::invalid_argument("input's last dimension must equal in_features (" + n2s(in_features) + "), got shape " + c10::str(x.sizes()));
}

void check_bias(const c10::optional<at::Tensor>& bias, int64_t out_features) {
    if (!bias) return;
    check_defined(*bias, "bias");
    if (bias->dim() != 1 || bias->size(0) != out_features)
        throw std::invalid_argument("bias must have shape [" + n2s(out_features) + "], got " + c10::str(bias->sizes()));
}

c10::optional<at::Tensor> bias_as(const c10::optional<at::Tensor>& bias, const at::Tensor& x) {
    if (!bias) return c10::nullopt;
    return bias->to(x.scalar_type());
}

// d(bias) = sum of grad_output over every dimension but the last.
at::Tensor bias_grad(AutogradContext* ctx, const at::Tensor& grad) {
    if (!ctx->saved_data["bias_requires_grad"].toBool()) return {};
    return grad.reshape({-1, grad.size(-1)}).sum(0).to(ctx->saved_data["bias_dtype"].toScalarType());
}

void save_flags(AutogradContext* ctx, const at::Tensor& x, const c10::optional<at::Tensor>& bias) {
    ctx->saved_data["input_requires_grad"] = x.requires_grad();
    ctx->saved_data["bias_requires_grad"] = bias.has_value() && bias->requires_grad();
    ctx->saved_data["bias_dtype"] = bias ? bias->scalar_type() : x.scalar_type();
}

// y = x W^T + b with W = nf4_dequantize(state) in x's dtype, a temporary. The node saves the
// quantized tensors only; backward dequantizes again for grad_input and gives the quantized
// tensors no gradient.
struct Nf4LinearFunction : public torch::autograd::Function<Nf4LinearFunction> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& packed, const at::Tensor& absmax,
                              const c10::optional<at::Tensor>& nested_absmax, const c10::optional<at::Tensor>& nested_code,
                              const c10::optional<at::Tensor>& nested_offset, const c10::optional<at::Tensor>& bias, int64_t blocksize,
                              int64_t nested_blocksize, int64_t out_features, int64_t in_features) {
        Nf4State s{packed, absmax, nested_absmax.value_or(at::Tensor()), nested_code.value_or(at::Tensor()),
                   nested_offset.value_or(at::Tensor()), blocksize, nested_blocksize, {out_features, in_features}};
        at::Tensor y;
        {
            auto w = nf4_dequantize(s, x.scalar_type());  // (out, in), freed on leaving this scope
            y = at::linear(x, w, bias_as(bias, x));
        }
        ctx->save_for_backward({packed, absmax, s.nested_absmax, s.nested_code, s.nested_offset});
        ctx->saved_data["blocksize"] = blocksize;
        ctx->saved_data["nested_blocksize"] = nested_blocksize;
        ctx->saved_data["out_features"] = out_features;
        ctx->saved_data["in_features"] = in_features;
        save_flags(ctx, x, bias);
        return y;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto& g = grads[0];
        at::Tensor grad_input;
        if (ctx->saved_data["input_requires_grad"].toBool()) {
            auto saved = ctx->get_saved_variables();
            Nf4State s{saved[0], saved[1], saved[2], saved[3], saved[4], ctx->saved_data["blocksize"].toInt(),
                       ctx->saved_data["nested_blocksize"].toInt(),
                       {ctx->saved_data["out_features"].toInt(), ctx->saved_data["in_features"].toInt()}};
            grad_input = at::matmul(g, nf4_dequantize(s, g.scalar_type()));
        }
        return {grad_input, {}, {}, {}, {}, {}, bias_grad(ctx, g), {}, {}, {}, {}};
    }
};

struct Int8LinearFunction : public torch::autograd::Function<Int8LinearFunction> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& q, const at::Tensor& row_stats,
                              const c10::optional<at::Tensor>& bias) {
        at::Tensor y;
        {
            auto w = int8_dequantize(q, row_stats, x.scalar_type());
            y = at::linear(x, w, bias_as(bias, x));
        }
        ctx->save_for_backward({q, row_stats});
        save_flags(ctx, x, bias);
        return y;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto& g = grads[0];
        at::Tensor grad_input;
        if (ctx->saved_data["input_requires_grad"].toBool()) {
            auto saved = ctx->get_saved_variables();
            grad_input = at::matmul(g, int8_dequantize(saved[0], saved[1], g.scalar_type()));
        }
        return {grad_input, {}, {}, bias_grad(ctx, g)};
    }
};

c10::optional<at::Tensor> opt_defined(fta_tensor t) { return t ? c10::optional<at::Tensor>(T(t)) : c10::nullopt; }

std::vector<int64_t> shape_of(const int64_t* shape, int64_t ndim) {
    auto d = dims(shape, ndim);
    return std::vector<int64_t>(d.begin(), d.end());
}

}  // namespace

FTA_EXPORT fta_status fta_quant_nf4_quantize(fta_tensor input, int64_t blocksize, fta_tensor* packed, fta_tensor* absmax) {
    return guard([&] {
        auto [p, a] = nf4_quantize(T(input), blocksize);
        *packed = wrap(p);
        *absmax = wrap(a);
    });
}

// Without double quantization nested_* are null and absmax is float. With it, absmax is the
// uint8 codes, nested_absmax the float32 absmax of each nested block, nested_code the 256-entry
// map and nested_offset the float32 mean that was subtracted.
FTA_EXPORT fta_status fta_quant_nf4_dequantize(fta_tensor packed, fta_tensor absmax, fta_tensor nested_absmax, fta_tensor nested_code,
                                               fta_tensor nested_offset, int64_t blocksize, int64_t nested_blocksize, const int64_t* shape,
                                               int64_t ndim, int32_t dtype_code, fta_tensor* out) {
    return guard([&] {
        Nf4State s{T(packed), T(absmax), nested_absmax ? T(nested_absmax) : at::Tensor(), nested_code ? T(nested_code) : at::Tensor(),
                   nested_offset ? T(nested_offset) : at::Tensor(), blocksize, nested_blocksize, shape_of(shape, ndim)};
        *out = wrap(nf4_dequantize(s, dtype(dtype_code)));
    });
}

FTA_EXPORT fta_status fta_quant_blockwise_quantize(fta_tensor input, fta_tensor code, int64_t blocksize, fta_tensor* q, fta_tensor* absmax) {
    return guard([&] {
        auto [qt, a] = blockwise_quantize(T(input), T(code), blocksize);
        *q = wrap(qt);
        *absmax = wrap(a);
    });
}

FTA_EXPORT fta_status fta_quant_blockwise_dequantize(fta_tensor q, fta_tensor absmax, fta_tensor code, int64_t blocksize, int32_t dtype_code,
                                                     fta_tensor* out) {
    return guard([&] { *out = wrap(blockwise_dequantize(T(q), T(absmax), T(code), blocksize, dtype(dtype_code))); });
}

FTA_EXPORT fta_status fta_quant_int8_quantize(fta_tensor input, fta_tensor* q, fta_tensor* row_stats) {
    return guard([&] {
        auto [qt, s] = int8_quantize(T(input));
        *q = wrap(qt);
        *row_stats = wrap(s);
    });
}

FTA_EXPORT fta_status fta_quant_int8_dequantize(fta_tensor q, fta_tensor row_stats, int32_t dtype_code, fta_tensor* out) {
    return guard([&] { *out = wrap(int8_dequantize(T(q), T(row_stats), dtype(dtype_code))); });
}

FTA_EXPORT fta_status fta_quant_nf4_linear(fta_tensor input, fta_tensor packed, fta_tensor absmax, fta_tensor nested_absmax, fta_tensor nested_code,
                                           fta_tensor nested_offset, fta_tensor bias, int64_t blocksize, int64_t nested_blocksize,
                                           int64_t out_features, int64_t in_features, fta_tensor* out) {
    return guard([&] {
        check_linear_input(T(input), in_features);
        check_bias(opt_defined(bias), out_features);
        *out = wrap(Nf4LinearFunction::apply(T(input), T(packed), T(absmax), opt_defined(nested_absmax), opt_defined(nested_code),
                                             opt_defined(nested_offset), opt_defined(bias), blocksize, nested_blocksize, out_features,
                                             in_features));
    });
}

FTA_EXPORT fta_status fta_quant_int8_linear(fta_tensor input, fta_tensor q, fta_tensor row_stats, fta_tensor bias, fta_tensor* out) {
    return guard([&] {
        check_dtype(T(q), at::kChar, "q");
        if (T(q).dim() != 2) throw std::invalid_argument("q must be two-dimensional (out_features, in_features)");
        check_linear_input(T(input), T(q).size(1));
        check_bias(opt_defined(bias), T(q).size(0));
        *out = wrap(Int8LinearFunction::apply(T(input), T(q), T(row_stats), opt_defined(bias)));
    });
}

// Test hook: nonzero makes this thread's quant ops take the device-agnostic ATen path on CPU.
FTA_EXPORT fta_status fta_quant_set_portable(int32_t enabled) {
    return guard([&] { t_portable = enabled != 0; });
}

// Test hook: the tensors the autograd node of a quantized linear output saved for backward.
FTA_EXPORT fta_status fta_quant_saved_tensors(fta_tensor output, fta_tensor* out, int64_t capacity, int64_t* count) {
    return guard([&] {
        auto fn = T(output).grad_fn();
        if (!fn) throw std::invalid_argument("output has no grad_fn (was the input requires_grad?)");
        variable_list saved;
        if (auto* n = dynamic_cast<torch::autograd::CppNode<Nf4LinearFunction>*>(fn.get())) saved = n->ctx_.get_saved_variables();
        else if (auto* m = dynamic_cast<torch::autograd::CppNode<Int8LinearFunction>*>(fn.get())) saved = m->ctx_.get_saved_variables();
        else throw std::invalid_argument("output was not produced by a quantized linear op (grad_fn " + fn->name() + ")");
        std::vector<at::Tensor> defined;
        for (auto& t : saved)
            if (t.defined()) defined.push_back(t);
        wrap_all(defined, out, capacity);
        *count = static_cast<int64_t>(defined.size());
    });
}
