// torch.distributed process groups (Gloo for CPU tensors, NCCL in CUDA builds) and the
// collectives data-parallel training needs. Every collective is synchronous: it returns once the
// result is in the caller's tensors, or fails with DistributedError when a peer times out or
// goes away (Gloo bounds each operation by the group's timeout).
#include "distributed.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>
#include <thread>

using namespace fta;

namespace {

using GroupPtr = c10::intrusive_ptr<c10d::ProcessGroup>;

GroupPtr& group_of(fta_process_group g) {
    if (g == nullptr) throw std::invalid_argument("process group handle is null");
    return *static_cast<GroupPtr*>(g);
}

// Groups sharing one store keep their rendezvous keys apart under a prefix, as PyTorch's
// init_process_group / new_group do with c10d::PrefixStore.
StorePtr group_store(fta_store store, const char* prefix) {
    auto& s = store_of(store);
    if (prefix == nullptr || *prefix == '\0') return s;
    return c10::make_intrusive<c10d::PrefixStore>(prefix, s);
}

void check_rank(int32_t rank, int32_t size) {
    if (size < 1) throw std::invalid_argument("world size must be at least 1, got " + std::to_string(size));
    if (rank < 0 || rank >= size)
        throw std::invalid_argument("rank must be in 0.." + std::to_string(size - 1) + ", got " + std::to_string(rank));
}

std::string describe(const GroupPtr& g) {
    return g->getBackendName() + " rank " + std::to_string(g->getRank()) + " of " + std::to_string(g->getSize());
}

// Blocks until work has finished and rethrows its failure. Gloo's wait() returns only then; NCCL's
// wait() only orders the current CUDA stream after the collective, so poll for the GPU to finish,
// bounded by the group's timeout.
void finish(const GroupPtr& g, const c10::intrusive_ptr<c10d::Work>& work) {
    work->wait();
#ifdef USE_C10D_NCCL
    if (auto* nccl = dynamic_cast<c10d::ProcessGroupNCCL*>(g.get())) {
        auto timeout = nccl->getOptions()->timeout;
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!work->isCompleted()) {
            if (std::chrono::steady_clock::now() > deadline) {
                work->abort();
                throw DistributedError("NCCL collective did not complete within " + std::to_string(timeout.count()) + " ms");
            }
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        if (auto e = work->exception()) std::rethrow_exception(e);
    }
#endif
}

// ReduceOp codes of the ABI: 0 sum, 1 avg, 2 product, 3 min, 4 max (c10d::ReduceOp's numbering).
// Gloo has no AVG in libtorch 1.13, so every backend averages as SUM followed by a division by
// the world size.
c10d::ReduceOp reduce_op(int32_t op, bool* average) {
    *average = false;
    switch (op) {
        case 0: return c10d::ReduceOp::SUM;
        case 1: *average = true; return c10d::ReduceOp::SUM;
        case 2: return c10d::ReduceOp::PRODUCT;
        case 3: return c10d::ReduceOp::MIN;
        case 4: return c10d::ReduceOp::MAX;
        default: throw std::invalid_argument("reduce op must be 0 (sum), 1 (avg), 2 (product), 3 (min) or 4 (max), got " + std::to_string(op));
    }
}

// Splits tensors into runs of one dtype and device, in first-appearance order (the same on
// every rank when every rank passes the same list), so each run travels as one buffer.
std::vector<std::vector<size_t>> buckets(const std::vector<at::Tensor>& ts) {
    std::vector<std::vector<size_t>> out;
    for (size_t i = 0; i < ts.size(); ++i) {
        if (!ts[i].defined()) throw std::invalid_argument("tensor " + std::to_string(i) + " of the list is undefined");
        bool placed = false;
        for (auto& b : out) {
            const auto& first = ts[b[0]];
            if (first.scalar_type() == ts[i].scalar_type() && first.device() == ts[i].device()) {
                b.push_back(i);
                placed = true;
                break;
            }
        }
        if (!placed) out.push_back({i});
    }
    return out;
}

// Runs collective on one flat buffer per bucket and writes the results back into the tensors,
// so each tensor ends as if the collective had run on it alone, whatever its shape or strides.
// fill says whether this rank's values go into the buffer (a broadcast's receivers need not).
template <class Collective>
void per_bucket(std::vector<at::Tensor>& ts, bool fill, Collective collective) {
    at::NoGradGuard no_grad;  // in place on parameters too, as c10d does, outside autograd
    for (const auto& bucket : buckets(ts)) {
        if (bucket.size() == 1 && ts[bucket[0]].is_contiguous()) {
            collective(ts[bucket[0]]);
            continue;
        }
        int64_t total = 0;
        for (auto i : bucket) total += ts[i].numel();
        at::Tensor flat;
        if (fill) {
            std::vector<at::Tensor> parts;
            for (auto i : bucket) parts.push_back(ts[i].reshape({-1}));
            flat = at::cat(parts);
        } else {
            flat = at::empty({total}, ts[bucket[0]].options());
        }
        collective(flat);
        int64_t offset = 0;
        for (auto i : bucket) {
            auto n = ts[i].numel();
            ts[i].copy_(flat.narrow(0, offset, n).view(ts[i].sizes()));
            offset += n;
        }
    }
}

}  // namespace

// A Gloo process group of size ranks meeting through store (keys under prefix, if non-empty).
// The group listens on interface_name when given (e.g. "eth0"), else on the address hostname
// resolves to (null means 127.0.0.1). Blocks until every rank has joined or timeout_ms passes;
// the same timeout bounds each later collective.
FTA_EXPORT fta_status fta_dist_gloo_new(fta_store store, const char* prefix, int32_t rank, int32_t size, int64_t timeout_ms,
                                        const char* hostname, const char* interface_name, fta_process_group* out) {
    return guard([&] {
        check_rank(rank, size);
        auto timeout = timeout_of(timeout_ms);
        auto s = group_store(store, prefix);
#ifdef USE_C10D_GLOO
        auto options = c10d::ProcessGroupGloo::Options::create(timeout);
        options->threads = 2;
        std::string iface = interface_name ? interface_name : "";
        std::string host = hostname && *hostname ? hostname : "127.0.0.1";
        auto where = iface.empty() ? "address " + host : "interface " + iface;
        options->devices.push_back(c10d_call("could not open a Gloo device on " + where, [&] {
            return iface.empty() ? c10d::ProcessGroupGloo::createDeviceForHostname(host)
                                 : c10d::ProcessGroupGloo::createDeviceForInterface(iface);
        }));
        auto what = "rank " + std::to_string(rank) + " of " + std::to_string(size) + " could not form a Gloo process group within " +
                    std::to_string(timeout_ms) + " ms";
        auto group = c10d_call(what, [&] { return GroupPtr(c10::make_intrusive<c10d::ProcessGroupGloo>(s, rank, size, options)); });
        *out = new GroupPtr(std::move(group));
#else
        throw NotSupported("this build of the native shim has no Gloo: compile it with -DUSE_C10D_GLOO and libgloo-dev installed");
#endif
    });
}

// An NCCL process group (CUDA tensors). NCCL creates its communicators lazily, at the first
// collective, so rendezvous failures may surface there rather than here.
FTA_EXPORT fta_status fta_dist_nccl_new(fta_store store, const char* prefix, int32_t rank, int32_t size, int64_t timeout_ms,
                                        fta_process_group* out) {
    return guard([&] {
        check_rank(rank, size);
        auto timeout = timeout_of(timeout_ms);
        auto s = group_store(store, prefix);
#ifdef USE_C10D_NCCL
        // Lets the NCCL watchdog abort communicators stuck past the timeout, so a lost peer ends
        // in an error rather than a hang (PyTorch's recommended setting; read by the constructor).
        setenv("NCCL_ASYNC_ERROR_HANDLING", "1", /*overwrite=*/0);
        auto options = c10d::ProcessGroupNCCL::Options::create();
        options->timeout = timeout;
        auto what = "rank " + std::to_string(rank) + " of " + std::to_string(size) + " could not create an NCCL process group";
        auto group = c10d_call(what, [&] { return GroupPtr(c10::make_intrusive<c10d::ProcessGroupNCCL>(s, rank, size, options)); });
        *out = new GroupPtr(std::move(group));
#else
        throw NotSupported(
            "NCCL process groups need a CUDA build of libtorch, and this shim was built without one (USE_C10D_NCCL is off). "
            "Build it against a CUDA libtorch: set TORCH_DIR to that libtorch (environment or `dotnet build -p:TORCH_DIR=...`) "
            "and rebuild after deleting artifacts/native; or use the gloo backend for CPU tensors");
#endif
    });
}

FTA_EXPORT fta_status fta_dist_group_free(fta_process_group group) {
    return guard([&] { delete static_cast<GroupPtr*>(group); });
}

FTA_EXPORT fta_status fta_dist_group_rank(fta_process_group group, int32_t* out) {
    return guard([&] { *out = group_of(group)->getRank(); });
}

FTA_EXPORT fta_status fta_dist_group_size(fta_process_group group, int32_t* out) {
    return guard([&] { *out = group_of(group)->getSize(); });
}

// The backend's name ("gloo", "nccl"); the string lives as long as the process.
FTA_EXPORT fta_status fta_dist_group_backend(fta_process_group group, const char** out) {
    return guard([&] {
        auto name = group_of(group)->getBackendName();
        *out = name == "gloo" ? "gloo" : name == "nccl" ? "nccl" : "other";
    });
}

// Reduces each of the n tensors across the group, in place, with op (see reduce_op). Tensors of
// one dtype and device travel together in one collective.
FTA_EXPORT fta_status fta_dist_all_reduce(fta_process_group group, const fta_tensor* tensors, int64_t n, int32_t op) {
    return guard([&] {
        auto& g = group_of(group);
        auto ts = fta::tensors(tensors, n);
        bool average = false;
        c10d::AllreduceOptions opts;
        opts.reduceOp = reduce_op(op, &average);
        if (average) {
            for (const auto& t : ts)
                if (t.defined() && t.scalar_type() == at::kBool) throw std::invalid_argument("cannot average bool tensors");
        }
        auto size = g->getSize();
        c10d_call("all_reduce failed on " + describe(g), [&] {
            per_bucket(ts, /*fill=*/true, [&](at::Tensor& flat) {
                std::vector<at::Tensor> v{flat};
                finish(g, g->allreduce(v, opts));
                if (average) {
                    if (at::isIntegralType(flat.scalar_type(), /*includeBool=*/false))
                        flat.div_(size, "trunc");
                    else
                        flat.div_(size);
                }
            });
        });
    });
}

// Copies the n tensors of rank src into the same tensors of every other rank.
FTA_EXPORT fta_status fta_dist_broadcast(fta_process_group group, const fta_tensor* tensors, int64_t n, int32_t src) {
    return guard([&] {
        auto& g = group_of(group);
        check_rank(src, g->getSize());
        auto ts = fta::tensors(tensors, n);
        c10d::BroadcastOptions opts;
        opts.rootRank = src;
        c10d_call("broadcast from rank " + std::to_string(src) + " failed on " + describe(g), [&] {
            per_bucket(ts, /*fill=*/g->getRank() == src, [&](at::Tensor& flat) {
                std::vector<at::Tensor> v{flat};
                finish(g, g->broadcast(v, opts));
            });
        });
    });
}

// Gathers input from every rank into outputs[r] (n must equal the world size; each output has
// input's shape, dtype and device).
FTA_EXPORT fta_status fta_dist_all_gather(fta_process_group group, fta_tensor input, const fta_tensor* outputs, int64_t n) {
    return guard([&] {
        auto& g = group_of(group);
        if (n != g->getSize())
            throw std::invalid_argument("all_gather needs one output tensor per rank: " + std::to_string(g->getSize()) + ", got " + std::to_string(n));
        auto in = T(input);
        auto outs = fta::tensors(outputs, n);
        for (int64_t r = 0; r < n; ++r) {
            const auto& o = outs[static_cast<size_t>(r)];
            if (o.sizes() != in.sizes() || o.scalar_type() != in.scalar_type() || o.device() != in.device())
                throw std::invalid_argument("all_gather output " + std::to_string(r) + " has shape " + c10::str(o.sizes()) + ", dtype " +
                                            c10::toString(o.scalar_type()) + ", device " + o.device().str() + "; expected those of the input: " +
                                            c10::str(in.sizes()) + ", " + c10::toString(in.scalar_type()) + ", " + in.device().str());
        }
        at::NoGradGuard no_grad;
        std::vector<std::vector<at::Tensor>> out{outs};
        std::vector<at::Tensor> v{in.contiguous()};
        c10d_call("all_gather failed on " + describe(g), [&] { finish(g, g->allgather(out, v)); });
    });
}

// Returns once every rank of the group has reached the barrier.
FTA_EXPORT fta_status fta_dist_barrier(fta_process_group group) {
    return guard([&] {
        auto& g = group_of(group);
        c10d_call("barrier failed on " + describe(g), [&] { finish(g, g->barrier()); });
    });
}
