using System.Runtime.InteropServices;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// glibc returns every allocation above 32 MB to the kernel on free (mmap/munmap), so each training step's
/// full-vocabulary logits and their gradients (hundreds of MB with Qwen3's 151,936 tokens) are page-faulted
/// and zeroed afresh: measured on 2 cores, the built-in job ran at ~130 tokens/s that way and ~590 with
/// glibc told to keep freed memory (the effect of MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2GB). CPU
/// PyTorch users get the same from jemalloc or tcmalloc. Tensors of 1 MiB and more no longer reach glibc: the
/// shim's caching allocator (torch.cpu.allocator) reuses them without refaulting and without the holes this
/// setting leaves in glibc's heap (resident memory had settled near twice the step's transient peak). This setting still serves the smaller blocks, and all
/// of them when FTA_CPU_ALLOCATOR=default turns the shim's allocator off.
/// </summary>
public static partial class CpuAllocator
{
    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_MAX = -4;
    private static int s_applied;

    /// <summary>Makes glibc keep freed memory for reuse (once per process; a no-op off glibc).</summary>
    public static bool RetainFreedMemory()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref s_applied, 1) == 1)
            return false;
        try
        {
            return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc (musl): leave the allocator as it is
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);
}
