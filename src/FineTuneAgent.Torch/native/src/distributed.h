// Shared by the torch.distributed sources (distributed_store.cpp, distributed.cpp): handle access,
// argument checks, and the rule that a c10d failure (a timeout, a peer that went away, a refused
// connection) leaves the shim as DistributedError rather than as a generic error.
#pragma once
#include "common.h"

#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <string>

namespace fta {

using StorePtr = c10::intrusive_ptr<c10d::Store>;

inline StorePtr& store_of(fta_store s) {
    if (s == nullptr) throw std::invalid_argument("store handle is null");
    return *static_cast<StorePtr*>(s);
}

inline std::string required(const char* s, const char* what) {
    if (s == nullptr) throw std::invalid_argument(std::string(what) + " is null");
    return std::string(s);
}

inline std::chrono::milliseconds timeout_of(int64_t ms) {
    if (ms <= 0) throw std::invalid_argument("timeout must be a positive number of milliseconds, got " + std::to_string(ms));
    return std::chrono::milliseconds(ms);
}

// Runs one c10d call. Failures the caller caused or cannot fix by retrying (a bad argument, a
// missing feature, memory) keep their class; everything else c10d, Gloo or NCCL throws becomes
// DistributedError, its message prefixed with what was being done.
template <class F>
auto c10d_call(const std::string& what, F&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const DistributedError&) {
        throw;
    } catch (const NotSupported&) {
        throw;
    } catch (const std::invalid_argument&) {
        throw;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const c10::OutOfMemoryError&) {
        throw;
    } catch (const c10::Error& e) {
        throw DistributedError(what + ": " + e.what_without_backtrace());
    } catch (const std::exception& e) {
        throw DistributedError(what + ": " + e.what());
    } catch (...) {
        throw DistributedError(what + ": unknown C++ exception");
    }
}

}  // namespace fta
