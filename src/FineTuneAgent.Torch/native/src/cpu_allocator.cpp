// A caching allocator for large CPU tensors, installed over libtorch's default CPU allocator when the shim loads.
//
// Why: libtorch's default CPU allocator is glibc's malloc. Left as it is, glibc maps every block above its dynamic
// threshold (up to 32 MiB) afresh and unmaps it when freed, so the large tensors of every step are page-faulted and
// zeroed again (the built-in job ran at a quarter of the speed); told to keep what it frees, as fta train did
// (CpuAllocator.RetainFreedMemory), it serves them from heap arenas, splits freed blocks for smaller requests and
// can return only a heap's top, so resident memory settled near twice the step's transient peak (Qwen3-0.6B LoRA
// at sequence 512 in float32: 6.65 GB where the tensors held at most about 4.7).
//
// Here every block of at least kMinCached bytes is its own anonymous mapping, never split. A freed block is kept
// for reuse by a later request of nearly its size (at most an eighth larger; of equal ones the last freed, still in
// cache), which is what training asks for next. A request no kept block fits *trades* one away (mremap: the smallest
// larger one shrinks, or the largest smaller one grows while idle blocks as large as the growth are unmapped) once
// the kept bytes pass a slack (below), so resident memory hardly grows while anything is kept: it peaks near
// what tensors hold (Qwen3-0.6B LoRA, 8 layers, bf16: 1.18 GB against glibc's 1.43–1.52). Kept bytes never exceed a
// limit (FTA_CPU_CACHE_MB, default 4096; 0 keeps nothing); smaller requests go to the default allocator.
//
// Trading every time cost refaulting: pages given back were faulted and zeroed again in the next step (LoRA bf16,
// 8 layers: 737 of 3100 requests resized each run, 190–200 tokens/s against 233–245 with no trading, whose kept
// blocks added 0.07 GB). So a request no kept block fits maps a new block while the kept bytes and it stay within a
// sixteenth of the live bytes, and trades only beyond that: the same run resizes 17 requests at no more memory than
// trading always (1.18–1.19 GB; Qwen3-0.6B Full fp32: 11.23 GB against 11.21, an eighth gave 11.7).
// FTA_CPU_CACHE_TRADE=0 (or set_trading) turns trading off: a request no kept block fits then maps a new block and
// kept blocks stay until the limit.
// FTA_CPU_ALLOCATOR=default leaves libtorch's allocator in place.
#include "common.h"

#include <c10/core/CPUAllocator.h>

#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <list>
#include <map>
#include <mutex>
#include <unordered_map>

using namespace fta;

namespace {

constexpr size_t kMinCached = size_t{1} << 20;  // 1 MiB: below it glibc's bins serve well
constexpr size_t kPage = 4096;
// Kept blocks may add up to this fraction of the live bytes (1/16) before a request no kept block fits trades one
// away: below it the request maps a new block and the kept ones wait for requests of their own sizes.
constexpr size_t kSlackDivisor = 16;

struct Stats {
    int64_t live = 0;       // bytes in blocks handed out
    int64_t cached = 0;     // bytes in kept blocks
    int64_t peak = 0;       // largest live + cached since the last reset
    int64_t hits = 0;       // requests served by a kept block as it was
    int64_t resized = 0;    // requests served by resizing a kept block
    int64_t misses = 0;     // requests that mapped a new block (nothing kept, or the kept bytes within the slack)
};

class CachingCpuAllocator final : public c10::Allocator {
   public:
    CachingCpuAllocator(c10::Allocator* fallback, size_t limit) : fallback_(fallback), limit_(limit) {
        const char* t = std::getenv("FTA_CPU_CACHE_TRADE");
        std::string value = t == nullptr ? "" : t;
        if (value != "" && value != "0" && value != "1")
            std::fprintf(stderr, "fta: FTA_CPU_CACHE_TRADE=\"%s\" is neither 0 nor 1; trading stays on\n", t);
        trade_ = value != "0";
    }

    // Large blocks carry their own address as context, as raw_allocate (which some kernels use for scratch space)
    // requires, and are found by it when freed.
    c10::DataPtr allocate(size_t n) const override {
        if (n < kMinCached) return fallback_->allocate(n);
        void* p = self()->take(n);
        return {p, p, &CachingCpuAllocator::free_block, c10::Device(c10::DeviceType::CPU)};
    }

    // raw_deallocate hands back small blocks too (raw_allocate made them through the fallback): free_block tells
    // them apart.
    c10::DeleterFnPtr raw_deleter() const override { return &CachingCpuAllocator::free_block; }

    Stats stats() {
        std::lock_guard<std::mutex> lock(mutex_);
        return stats_;
    }

    void reset_peak() {
        std::lock_guard<std::mutex> lock(mutex_);
        stats_.peak = stats_.live + stats_.cached;
    }

    void set_limit(size_t limit) {
        std::lock_guard<std::mutex> lock(mutex_);
        limit_ = limit;
        trim_to(limit_);
    }

    void set_trading(bool on) {
        std::lock_guard<std::mutex> lock(mutex_);
        trade_ = on;
    }

    // Unmaps every kept block.
    void release() {
        std::lock_guard<std::mutex> lock(mutex_);
        trim_to(0);
    }

    static CachingCpuAllocator* instance;

   private:
    using Lru = std::list<void*>;
    struct Kept {
        size_t size;
        Lru::iterator age;
    };

    CachingCpuAllocator* self() const { return const_cast<CachingCpuAllocator*>(this); }

    void* take(size_t n) {
        size_t size = (n + kPage - 1) / kPage * kPage;
        void* p = nullptr;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            auto it = free_.lower_bound(size);
            if (it != free_.end() && it->first <= size + size / 8) {
                // A kept block of nearly this size: reused as it is; of several that size, the one freed last (equal
                // keys sit in insertion order), whose pages are likeliest still in cache.
                it = std::prev(free_.upper_bound(it->first));
                size = it->first;
                p = it->second;
                forget(it);
                stats_.hits++;
            } else if (trade_ && !free_.empty() &&
                       static_cast<size_t>(stats_.cached) + size > static_cast<size_t>(stats_.live) / kSlackDivisor) {
                // None fits: the smallest larger block shrinks to the size (its tail pages go back), or else the largest
                // smaller one grows to it (its pages stay, only the rest is new) and idle blocks as large as the growth
                // are unmapped, so resident memory does not grow while anything is kept.
                if (it == free_.end()) --it;
                void* old = it->second;
                size_t old_size = it->first;
                forget(it);
                p = mremap(old, old_size, size, old_size > size ? 0 : MREMAP_MAYMOVE);
                if (p == MAP_FAILED) {
                    munmap(old, old_size);
                    p = nullptr;
                }
                if (size > old_size) {
                    size_t growth = size - old_size;
                    trim_to(static_cast<size_t>(stats_.cached) > growth ? static_cast<size_t>(stats_.cached) - growth : 0);
                }
                stats_.resized++;
            } else {
                stats_.misses++;
            }
        }
        if (p == nullptr) {
            p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) {
                release();
                p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED)
                    throw c10::OutOfMemoryError({__func__, __FILE__, static_cast<uint32_t>(__LINE__)},
                                                "CPU out of memory: could not map " + std::to_string(size) + " bytes");
            }
        }
        std::lock_guard<std::mutex> lock(mutex_);
        live_.emplace(p, size);
        stats_.live += static_cast<int64_t>(size);
        stats_.peak = std::max(stats_.peak, stats_.live + stats_.cached);
        return p;
    }

    // Takes a kept block out of the cache's indexes (it stays mapped). Holds mutex_.
    void forget(std::multimap<size_t, void*>::iterator it) {
        lru_.erase(kept_.at(it->second).age);
        kept_.erase(it->second);
        stats_.cached -= static_cast<int64_t>(it->first);
        free_.erase(it);
    }

    static void free_block(void* p) { instance->keep(p); }

    void keep(void* p) {
        std::unique_lock<std::mutex> lock(mutex_);
        auto it = live_.find(p);
        if (it == live_.end()) {
            lock.unlock();
            fallback_->raw_deleter()(p);  // a small block raw_allocate took from the fallback
            return;
        }
        size_t size = it->second;
        live_.erase(it);
        stats_.live -= static_cast<int64_t>(size);
        if (size > limit_) {
            munmap(p, size);
            return;
        }
        lru_.push_back(p);
        kept_.emplace(p, Kept{size, std::prev(lru_.end())});
        free_.emplace(size, p);
        stats_.cached += static_cast<int64_t>(size);
        trim_to(limit_);
    }

    // Unmaps kept blocks, least recently freed first, until at most `target` bytes are kept. Holds mutex_.
    void trim_to(size_t target) {
        while (static_cast<size_t>(stats_.cached) > target && !lru_.empty()) {
            void* oldest = lru_.front();
            lru_.pop_front();
            size_t size = kept_.at(oldest).size;
            kept_.erase(oldest);
            auto range = free_.equal_range(size);
            for (auto it = range.first; it != range.second; ++it)
                if (it->second == oldest) {
                    free_.erase(it);
                    break;
                }
            stats_.cached -= static_cast<int64_t>(size);
            munmap(oldest, size);
        }
    }

    c10::Allocator* fallback_;
    size_t limit_;
    bool trade_ = true;
    std::mutex mutex_;
    std::unordered_map<void*, size_t> live_;   // blocks handed out, by address
    std::unordered_map<void*, Kept> kept_;     // blocks kept for reuse, by address
    std::multimap<size_t, void*> free_;        // the same, by size
    Lru lru_;                                  // the same, least recently freed first
    Stats stats_;
};

CachingCpuAllocator* CachingCpuAllocator::instance = nullptr;

size_t limit_from_environment() {
    constexpr long long kDefaultMb = 4096;
    const char* mb = std::getenv("FTA_CPU_CACHE_MB");
    if (mb == nullptr || *mb == '\0') return static_cast<size_t>(kDefaultMb) << 20;
    char* end = nullptr;
    long long v = std::strtoll(mb, &end, 10);
    if (end == nullptr || *end != '\0' || v < 0) {
        std::fprintf(stderr, "fta: FTA_CPU_CACHE_MB=\"%s\" is not a whole number of MiB (0 or more); using %lld\n", mb,
                     kDefaultMb);
        v = kDefaultMb;
    }
    return static_cast<size_t>(v) << 20;
}

// Installed when the shim is loaded, before any tensor the caller makes; tensors made earlier keep their own
// deleters, so mixing is safe. Never destroyed: tensors may outlive static destruction.
CachingCpuAllocator* install() {
    const char* choice = std::getenv("FTA_CPU_ALLOCATOR");
    std::string value = choice == nullptr ? "" : choice;
    if (value == "default") return nullptr;
    if (value != "" && value != "caching")
        std::fprintf(stderr, "fta: FTA_CPU_ALLOCATOR=\"%s\" is neither caching nor default; using caching\n", choice);
    auto* allocator = new CachingCpuAllocator(c10::GetCPUAllocator(), limit_from_environment());
    CachingCpuAllocator::instance = allocator;
    c10::SetCPUAllocator(allocator, /*priority=*/1);
    return allocator;
}

CachingCpuAllocator* const installed = install();

}  // namespace

// Statistics of the caching CPU allocator (all zero and *active = 0 when it is not installed): bytes handed out,
// bytes kept for reuse, their largest sum since the last reset, and requests served by a kept block as it was, by
// resizing one, or by a new mapping.
FTA_EXPORT fta_status fta_cpu_allocator_stats(int32_t* active, int64_t* live, int64_t* cached, int64_t* peak, int64_t* hits, int64_t* resized, int64_t* misses) {
    return guard([&] {
        Stats s = installed != nullptr ? installed->stats() : Stats{};
        *active = installed != nullptr ? 1 : 0;
        *live = s.live;
        *cached = s.cached;
        *peak = s.peak;
        *hits = s.hits;
        *resized = s.resized;
        *misses = s.misses;
    });
}

// Resets the peak to the present live + kept bytes.
FTA_EXPORT fta_status fta_cpu_allocator_reset_peak() {
    return guard([&] {
        if (installed != nullptr) installed->reset_peak();
    });
}

// Unmaps every kept block (the limit stays).
FTA_EXPORT fta_status fta_cpu_allocator_empty_cache() {
    return guard([&] {
        if (installed != nullptr) installed->release();
    });
}

// Turns trading (see the top of this file) on or off.
FTA_EXPORT fta_status fta_cpu_allocator_set_trading(int32_t on) {
    return guard([&] {
        if (installed != nullptr) installed->set_trading(on != 0);
    });
}

// Sets the most bytes kept for reuse (unmapping kept blocks beyond it); 0 keeps none.
FTA_EXPORT fta_status fta_cpu_allocator_set_limit(int64_t bytes) {
    return guard([&] {
        if (bytes < 0) throw std::invalid_argument("cpu allocator: the cache limit must be at least 0 bytes");
        if (installed != nullptr) installed->set_limit(static_cast<size_t>(bytes));
    });
}
