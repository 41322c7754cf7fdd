// torch_driver: the ops FineTuneAgent.Bench times through the binding, called straight from C++
// against the same libtorch, so the two can be compared. Each op matches what the shim's export
// does, minus the C ABI: matmul -> at::matmul (a new result per call, as fta_tensor_matmul),
// add -> at::add(a, b, 1) on 1-element tensors (fta_tensor_add), get_num_threads ->
// at::get_num_threads() (fta_runtime_get_num_threads).
//
//   torch_driver [--threads T] [--size N] [--iters K] [--trivial-iters M] [--warmup W]
//       one run: prints one JSON object with matmul GFLOP/s and per-call ns of the trivial ops
//   torch_driver --serve [--threads T]
//       reads commands from stdin, one per line, and answers each with one JSON line:
//         threads T | matmul N ITERS | add ITERS | get_num_threads ITERS | quit
//       The bench keeps one driver process alive and alternates rounds with the binding.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/api/include/torch/version.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;

volatile int64_t sink;  // keeps results of the no-op loop observable

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Inputs per matrix size, created once outside any timed loop (as the bench does on its side).
std::map<int64_t, std::pair<at::Tensor, at::Tensor>> matrices;

const std::pair<at::Tensor, at::Tensor>& inputs(int64_t n) {
    auto it = matrices.find(n);
    if (it == matrices.end())
        it = matrices.emplace(n, std::make_pair(at::randn({n, n}, at::kFloat), at::randn({n, n}, at::kFloat))).first;
    return it->second;
}

std::string matmul(int64_t n, int64_t iters) {
    const auto& [a, b] = inputs(n);
    auto start = Clock::now();
    for (int64_t i = 0; i < iters; ++i) {
        at::Tensor c = at::matmul(a, b);  // new result each call, freed at the end of the iteration
    }
    double s = seconds_since(start);
    double flops = 2.0 * static_cast<double>(n) * n * n * iters;
    std::ostringstream o;
    o.precision(9);
    o << "{\"op\":\"matmul\",\"size\":" << n << ",\"iters\":" << iters << ",\"seconds\":" << s
      << ",\"gflops\":" << flops / s / 1e9 << ",\"ns_per_call\":" << s * 1e9 / iters << "}";
    return o.str();
}

std::string add(int64_t iters) {
    static const at::Tensor x = at::ones({1}, at::kFloat);
    static const at::Tensor y = at::ones({1}, at::kFloat);
    auto start = Clock::now();
    for (int64_t i = 0; i < iters; ++i) {
        at::Tensor c = at::add(x, y, 1);
    }
    double s = seconds_since(start);
    std::ostringstream o;
    o.precision(9);
    o << "{\"op\":\"add\",\"iters\":" << iters << ",\"seconds\":" << s << ",\"ns_per_call\":" << s * 1e9 / iters << "}";
    return o.str();
}

std::string get_num_threads(int64_t iters) {
    int64_t total = 0;
    auto start = Clock::now();
    for (int64_t i = 0; i < iters; ++i) total += at::get_num_threads();
    double s = seconds_since(start);
    sink = total;
    std::ostringstream o;
    o.precision(9);
    o << "{\"op\":\"get_num_threads\",\"iters\":" << iters << ",\"seconds\":" << s << ",\"ns_per_call\":" << s * 1e9 / iters << "}";
    return o.str();
}

std::string set_threads(int64_t n) {
    if (n < 1) throw std::invalid_argument("thread count must be at least 1");
    at::set_num_threads(static_cast<int>(n));
    std::ostringstream o;
    o.precision(9);
    o << "{\"op\":\"threads\",\"threads\":" << at::get_num_threads() << ",\"torch_version\":\"" << TORCH_VERSION_MAJOR << "."
      << TORCH_VERSION_MINOR << "." << TORCH_VERSION_PATCH << "\"}";
    return o.str();
}

std::string escape(const std::string& s) {
    std::string r;
    for (char c : s) {
        if (c == '"' || c == '\\') r += '\\';
        if (c == '\n') { r += "\\n"; continue; }
        r += c;
    }
    return r;
}

int64_t positive(const std::string& text, const char* what) {
    std::size_t used = 0;
    long long v = 0;
    try {
        v = std::stoll(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != text.size() || v < 1) throw std::invalid_argument(std::string(what) + " must be a positive integer, got '" + text + "'");
    return v;
}

int serve() {
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        std::string cmd, a1, a2;
        in >> cmd >> a1 >> a2;
        if (cmd.empty()) continue;
        if (cmd == "quit") break;
        std::string reply;
        try {
            if (cmd == "threads") reply = set_threads(positive(a1, "threads"));
            else if (cmd == "matmul") reply = matmul(positive(a1, "size"), positive(a2, "iters"));
            else if (cmd == "add") reply = add(positive(a1, "iters"));
            else if (cmd == "get_num_threads") reply = get_num_threads(positive(a1, "iters"));
            else throw std::invalid_argument("unknown command '" + cmd + "'");
        } catch (const std::exception& e) {
            reply = "{\"error\":\"" + escape(e.what()) + "\"}";
        }
        std::cout << reply << std::endl;  // flush: the bench waits for each line
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    int64_t threads = std::max(1u, std::thread::hardware_concurrency());
    int64_t size = 1024, iters = 20, trivial_iters = 200000, warmup = 2;
    bool serve_mode = false;
    try {
        for (int i = 1; i < argc; ++i) {
            std::string arg = argv[i];
            auto value = [&]() -> std::string {
                if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
                return argv[++i];
            };
            if (arg == "--serve") serve_mode = true;
            else if (arg == "--threads") threads = positive(value(), "--threads");
            else if (arg == "--size") size = positive(value(), "--size");
            else if (arg == "--iters") iters = positive(value(), "--iters");
            else if (arg == "--trivial-iters") trivial_iters = positive(value(), "--trivial-iters");
            else if (arg == "--warmup") warmup = positive(value(), "--warmup");
            else throw std::invalid_argument("unknown argument '" + arg + "'");
        }
        std::string threads_json = set_threads(threads);
        if (serve_mode) return serve();
        matmul(size, warmup);
        add(trivial_iters / 10 + 1);
        get_num_threads(trivial_iters / 10 + 1);
        std::cout << "{\"threads\":" << threads_json << ",\"matmul\":" << matmul(size, iters) << ",\"add\":" << add(trivial_iters)
                  << ",\"get_num_threads\":" << get_num_threads(trivial_iters) << "}" << std::endl;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "torch_driver: " << e.what() << std::endl;
        return 2;
    }
}
