// torch.distributed rendezvous: c10d::TCPStore, the key-value store through which the ranks of a
// process group find each other (and through which tests and the cluster exchange small values).
#include "distributed.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <thread>

using namespace fta;

namespace {
// The value of the last fta_dist_store_get on this thread; valid until the next get on it.
thread_local std::vector<uint8_t> last_value;

// The counter every rank that waits for workers increments on joining (see fta_dist_tcpstore_new).
const char* const joined_key = "fta/tcpstore/joined";

// Counts this rank in; the master then waits until world_size ranks have, or throws at the
// deadline (as PyTorch 2.x's TCPStore does; 1.13's own wait returns silently at its timeout).
void await_ranks(c10d::Store& store, bool is_master, int32_t world_size, std::chrono::milliseconds timeout, const std::string& where) {
    auto joined = store.add(joined_key, 1);
    if (!is_master) return;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (joined < world_size) {
        if (std::chrono::steady_clock::now() >= deadline)
            throw DistributedError("timed out after " + std::to_string(timeout.count()) + " ms waiting for clients of the TCPStore master on " +
                                   where + ": " + std::to_string(joined) + "/" + std::to_string(world_size) + " ranks joined");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        joined = store.add(joined_key, 0);
    }
}

c10d::TCPStore& tcp_store(fta_store s) {
    auto* tcp = dynamic_cast<c10d::TCPStore*>(store_of(s).get());
    if (tcp == nullptr) throw std::invalid_argument("store is not a TCPStore");
    return *tcp;
}
}  // namespace

// A TCPStore on host:port. The master (is_master=1) listens there, port 0 picking a free port
// (read it back with fta_dist_tcpstore_port); the others connect to it. world_size < 0 means
// unknown. With wait_for_workers=1 and a known world size, every rank counts itself in under the
// key "fta/tcpstore/joined" and the master blocks until world_size ranks (itself included) have,
// failing with DistributedError after timeout_ms.
FTA_EXPORT fta_status fta_dist_tcpstore_new(const char* host, int32_t port, int32_t world_size, int32_t is_master, int64_t timeout_ms,
                                            int32_t wait_for_workers, fta_store* out) {
    return guard([&] {
        auto h = required(host, "host");
        if (port < 0 || port > 65535) throw std::invalid_argument("port must be in 0..65535, got " + std::to_string(port));
        if (port == 0 && !is_master) throw std::invalid_argument("a TCPStore client needs the master's port; only the master may pass port 0");
        if (world_size == 0 || world_size < -1) throw std::invalid_argument("world size must be positive (or -1 for unknown), got " + std::to_string(world_size));
        c10d::TCPStoreOptions opts;
        opts.port = static_cast<std::uint16_t>(port);
        opts.isServer = is_master != 0;
        if (world_size > 0) opts.numWorkers = static_cast<std::size_t>(world_size);
        opts.waitWorkers = false;  // libtorch 1.13's wait ends silently at the timeout: ours below fails instead
        opts.timeout = timeout_of(timeout_ms);
        auto what = std::string(is_master ? "could not start the TCPStore master on " : "could not connect to the TCPStore at ") + h + ":" +
                    std::to_string(port) + " (timeout " + std::to_string(timeout_ms) + " ms)";
        auto store = c10d_call(what, [&] { return StorePtr(c10::make_intrusive<c10d::TCPStore>(h, opts)); });
        if (wait_for_workers && world_size > 0) {
            auto where = h + ":" + std::to_string(static_cast<c10d::TCPStore&>(*store).getPort());
            c10d_call("waiting for the TCPStore's ranks to join failed", [&] { await_ranks(*store, is_master != 0, world_size, opts.timeout, where); });
        }
        *out = new StorePtr(std::move(store));
    });
}

// The port the store listens on (the master) or connects to (a client): the actual one when the
// master was asked for port 0.
FTA_EXPORT fta_status fta_dist_tcpstore_port(fta_store store, int32_t* out) {
    return guard([&] { *out = static_cast<int32_t>(tcp_store(store).getPort()); });
}

FTA_EXPORT fta_status fta_dist_store_free(fta_store store) {
    return guard([&] { delete static_cast<StorePtr*>(store); });
}

FTA_EXPORT fta_status fta_dist_store_set(fta_store store, const char* key, const uint8_t* data, int64_t length) {
    return guard([&] {
        auto k = required(key, "key");
        if (length < 0 || (length > 0 && data == nullptr)) throw std::invalid_argument("invalid value buffer");
        std::vector<uint8_t> value(data, data + length);
        c10d_call("store set '" + k + "' failed", [&] { store_of(store)->set(k, value); });
    });
}

// Waits (up to the store's timeout) for key to be set, then hands back its value in a buffer
// owned by this thread, valid until the next fta_dist_store_get on it.
FTA_EXPORT fta_status fta_dist_store_get(fta_store store, const char* key, const uint8_t** data, int64_t* length) {
    return guard([&] {
        auto k = required(key, "key");
        last_value = c10d_call("store get '" + k + "' failed", [&] { return store_of(store)->get(k); });
        *data = last_value.data();
        *length = static_cast<int64_t>(last_value.size());
    });
}

// Atomically adds amount to the integer stored under key (missing counts as 0); returns the sum.
FTA_EXPORT fta_status fta_dist_store_add(fta_store store, const char* key, int64_t amount, int64_t* out) {
    return guard([&] {
        auto k = required(key, "key");
        *out = c10d_call("store add '" + k + "' failed", [&] { return store_of(store)->add(k, amount); });
    });
}

// Blocks until every key is set; timeout_ms <= 0 uses the store's own timeout.
FTA_EXPORT fta_status fta_dist_store_wait(fta_store store, const char* const* keys, int64_t n, int64_t timeout_ms) {
    return guard([&] {
        if (n < 0 || (n > 0 && keys == nullptr)) throw std::invalid_argument("invalid key list");
        std::vector<std::string> ks;
        for (int64_t i = 0; i < n; ++i) ks.push_back(required(keys[i], "key"));
        c10d_call("store wait failed", [&] {
            auto& s = store_of(store);
            if (timeout_ms > 0)
                s->wait(ks, std::chrono::milliseconds(timeout_ms));
            else
                s->wait(ks);
        });
    });
}

FTA_EXPORT fta_status fta_dist_store_delete_key(fta_store store, const char* key, int32_t* deleted) {
    return guard([&] {
        auto k = required(key, "key");
        *deleted = c10d_call("store delete '" + k + "' failed", [&] { return store_of(store)->deleteKey(k); }) ? 1 : 0;
    });
}

FTA_EXPORT fta_status fta_dist_store_num_keys(fta_store store, int64_t* out) {
    return guard([&] { *out = c10d_call("store num_keys failed", [&] { return store_of(store)->getNumKeys(); }); });
}
