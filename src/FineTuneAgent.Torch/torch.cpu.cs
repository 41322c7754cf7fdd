using FineTuneAgent.Torch.Interop;

namespace FineTuneAgent.Torch;

public static partial class torch
{
    /// <summary>The CPU side of libtorch as this shim configures it.</summary>
    public static class cpu
    {
        /// <summary>
        /// The shim's caching allocator for large CPU tensors (native/src/cpu_allocator.cpp): every block of 1 MiB or more
        /// is its own mapping, never split; freed blocks are kept for reuse by requests of nearly their size (and, while
        /// <see cref="set_trading"/> is on, resized for others), up to a limit (FTA_CPU_CACHE_MB, default 4096). Off when FTA_CPU_ALLOCATOR=default was set before the shim loaded.
        /// </summary>
        public static class allocator
        {
            /// <summary>Whether the caching allocator serves CPU tensors in this process.</summary>
            public static bool is_active() => Stats().Active;

            /// <summary>Bytes of large blocks now handed out to tensors.</summary>
            public static long live_bytes() => Stats().Live;

            /// <summary>Bytes of freed large blocks kept for reuse.</summary>
            public static long cached_bytes() => Stats().Cached;

            /// <summary>The largest live + kept bytes since the process started or <see cref="reset_peak"/>.</summary>
            public static long peak_bytes() => Stats().Peak;

            /// <summary>Large requests served by a kept block as it was, by resizing a kept block, and by a new mapping.</summary>
            public static (long Hits, long Resized, long Misses) reuse()
            {
                var s = Stats();
                return (s.Hits, s.Resized, s.Misses);
            }

            public static void reset_peak() => Status.Check(RuntimeInterop.fta_cpu_allocator_reset_peak());

            /// <summary>Unmaps every kept block, returning its memory to the system (the limit stays).</summary>
            public static void empty_cache() => Status.Check(RuntimeInterop.fta_cpu_allocator_empty_cache());

            /// <summary>
            /// Trading: once the kept bytes pass a sixteenth of the live bytes, a request no kept block fits resizes one and
            /// unmaps idle blocks as large as the growth, so resident memory hardly grows while anything is kept; below that
            /// slack it maps a new block, sparing the refaulting (on by default; FTA_CPU_CACHE_TRADE=0 turns it off).
            /// </summary>
            public static void set_trading(bool on) => Status.Check(RuntimeInterop.fta_cpu_allocator_set_trading(on ? 1 : 0));

            /// <summary>Sets the most bytes kept for reuse, unmapping kept blocks beyond it (0 keeps none).</summary>
            public static void set_cache_limit(long bytes) => Status.Check(RuntimeInterop.fta_cpu_allocator_set_limit(bytes));

            private static (bool Active, long Live, long Cached, long Peak, long Hits, long Resized, long Misses) Stats()
            {
                Status.Check(RuntimeInterop.fta_cpu_allocator_stats(out var active, out var live, out var cached, out var peak, out var hits, out var resized, out var misses));
                return (active != 0, live, cached, peak, hits, resized, misses);
            }
        }
    }
}
