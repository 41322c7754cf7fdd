using System.Globalization;
using FineTuneAgent.Torch;

namespace FineTuneAgent.Core.Hardware;

/// <summary>
/// Finds what this machine can train on: the CPU from /proc/cpuinfo and /proc/meminfo, GPUs from
/// libtorch's CUDA API when the shim was built against a CUDA libtorch, otherwise from nvidia-smi, and
/// nothing (never an error) on a machine without either. Then names the classic set-up mistakes with
/// their fix. Every source can be replaced, so tests can play a machine with GPUs.
/// </summary>
public sealed class HardwareProbe
{
    /// <summary>Memory other processes may hold on a GPU before it is called out (the CUDA context of a desktop is a few hundred MiB).</summary>
    public const long HeldMemoryAllowanceBytes = 1L << 30;

    public Func<string?> CpuInfoText { get; init; } = () => ReadOrNull("/proc/cpuinfo");

    public Func<string?> MemInfoText { get; init; } = () => ReadOrNull("/proc/meminfo");

    /// <summary>The nvidia-smi to run: a name looked up on PATH, or a path.</summary>
    public string NvidiaSmiExecutable { get; init; } = "nvidia-smi";

    public TimeSpan NvidiaSmiTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The GPUs libtorch itself sees (empty on a CPU-only build).</summary>
    public Func<IReadOnlyList<GpuInfo>> TorchGpus { get; init; } = DefaultTorchGpus;

    public Func<bool> TorchCudaBuild { get; init; } = torch.cuda.is_built;

    public Func<int> TorchThreads { get; init; } = torch.get_num_threads;

    public HardwareReport Probe()
    {
        var cpu = ParseCpu(CpuInfoText() ?? "", MemInfoText() ?? "", Environment.ProcessorCount, TorchThreads());
        var cudaBuild = TorchCudaBuild();
        var torchGpus = cudaBuild ? TorchGpus() : [];
        var smi = NvidiaSmi.Query(NvidiaSmiExecutable, NvidiaSmiTimeout);
        var gpus = torchGpus.Count > 0 ? torchGpus : smi.Gpus.Select(r => r.Gpu).ToList();

        var problems = new List<SetupProblem>();
        if (smi.Gpus.Count > 0 && !cudaBuild)
        {
            problems.Add(new SetupProblem("torch-without-cuda",
                $"{Describe(smi.Gpus.Select(r => r.Gpu))} present, but libfta_torch.so was built against a libtorch without CUDA, so training runs on the CPU",
                "download a CUDA build of libtorch (cxx11 ABI) matching your driver, point TORCH_DIR at it and rebuild: TORCH_DIR=/path/to/libtorch dotnet build -c Release"));
        }
        else if (smi.Gpus.Count > 0 && torchGpus.Count == 0)
        {
            problems.Add(new SetupProblem("cuda-unusable",
                $"{Describe(smi.Gpus.Select(r => r.Gpu))} present and libtorch was built with CUDA, but it sees no device",
                "check that the NVIDIA driver supports libtorch's CUDA version (nvidia-smi prints the highest CUDA the driver runs) and that CUDA_VISIBLE_DEVICES does not hide the GPUs"));
        }
        if (smi.Failure is { } failure)
            problems.Add(new SetupProblem("nvidia-smi-failed", $"nvidia-smi is installed but failed: {failure}",
                "load the NVIDIA driver (a reboot after a driver update usually does it) or, on a machine without a GPU, ignore this"));
        foreach (var gpu in gpus)
        {
            if (gpu.ComputeMajor > 0 && !gpu.Bf16)
                problems.Add(new SetupProblem("gpu-without-bf16",
                    $"GPU {gpu.Index} ({gpu.Name}, compute capability {gpu.ComputeCapability}) has no bf16 (it needs 8.0 or newer)",
                    "train in fp16 or fp32: leave --bf16 off"));
            var held = gpu.TotalMemoryBytes - gpu.FreeMemoryBytes;
            if (held > Math.Max(HeldMemoryAllowanceBytes, gpu.TotalMemoryBytes / 10))
            {
                var uuid = smi.Gpus.FirstOrDefault(r => r.Gpu.Index == gpu.Index)?.Uuid;
                var holders = smi.Apps.Where(a => a.GpuUuid == uuid).Select(a => $"{a.ProcessName} (pid {a.Pid}, {Gib(a.UsedBytes)})").ToList();
                problems.Add(new SetupProblem("gpu-memory-held",
                    $"GPU {gpu.Index} ({gpu.Name}) has {Gib(gpu.FreeMemoryBytes)} free of {Gib(gpu.TotalMemoryBytes)}: other processes hold {Gib(held)}" +
                    (holders.Count > 0 ? $" — {string.Join(", ", holders)}" : ""),
                    "stop those processes or use another GPU; plans are made against free memory, so fewer methods fit until then"));
            }
        }
        if (cpu.TorchThreads < cpu.LogicalCores)
            problems.Add(new SetupProblem("torch-threads",
                $"libtorch uses {cpu.TorchThreads} thread(s) of the {cpu.LogicalCores} cores this process may use",
                Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is { } omp
                    ? $"OMP_NUM_THREADS={omp} is set: unset it or set it to {cpu.LogicalCores}"
                    : $"set OMP_NUM_THREADS={cpu.LogicalCores}"));

        return new HardwareReport
        {
            Host = Environment.MachineName,
            Cpu = cpu,
            Gpus = gpus,
            TorchVersion = torch.__version__,
            TorchCudaBuild = cudaBuild,
            Problems = problems,
        };
    }

    /// <summary>A <see cref="CpuInfo"/> from the text of /proc/cpuinfo and /proc/meminfo (either may be empty: other systems).</summary>
    public static CpuInfo ParseCpu(string cpuinfo, string meminfo, int logicalCores, int torchThreads)
    {
        string? model = null;
        var flags = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in cpuinfo.Split('\n'))
        {
            var colon = raw.IndexOf(':');
            if (colon < 0)
                continue;
            var key = raw[..colon].Trim();
            var value = raw[(colon + 1)..].Trim();
            if (key == "model name" && model is null)
                model = value;
            else if (key is "flags" or "Features" && flags.Count == 0)   // x86 "flags"; ARM "Features"
                flags.UnionWith(value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        }
        var memory = ParseMemInfo(meminfo);
        return new CpuInfo
        {
            Model = model ?? "unknown CPU",
            LogicalCores = logicalCores,
            TorchThreads = torchThreads,
            TotalMemoryBytes = memory.GetValueOrDefault("MemTotal"),
            AvailableMemoryBytes = memory.TryGetValue("MemAvailable", out var available) ? available : memory.GetValueOrDefault("MemFree"),
            Avx2 = flags.Contains("avx2"),
            Avx512 = flags.Contains("avx512f"),
            Avx512Bf16 = flags.Contains("avx512_bf16"),
            AmxBf16 = flags.Contains("amx_bf16"),
        };
    }

    /// <summary>/proc/meminfo's "Name: N kB" lines as bytes.</summary>
    public static Dictionary<string, long> ParseMemInfo(string meminfo)
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var raw in meminfo.Split('\n'))
        {
            var colon = raw.IndexOf(':');
            if (colon < 0)
                continue;
            var parts = raw[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0 || !long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
                continue;
            values[raw[..colon].Trim()] = parts.Length > 1 && parts[1] == "kB" ? n * 1024 : n;
        }
        return values;
    }

    public static string Gib(long bytes) => $"{bytes / (double)(1L << 30):F1} GiB";

    private static string Describe(IEnumerable<GpuInfo> gpus)
    {
        var list = gpus.ToList();
        return list.Count == 1 ? $"an NVIDIA GPU ({list[0].Name})" : $"{list.Count} NVIDIA GPUs ({string.Join(", ", list.Select(g => g.Name).Distinct())})";
    }

    private static IReadOnlyList<GpuInfo> DefaultTorchGpus()
    {
        var gpus = new List<GpuInfo>();
        var count = torch.cuda.device_count();
        for (var i = 0; i < count; i++)
        {
            var (name, major, minor) = torch.cuda.get_device_properties(i);
            var (free, total) = torch.cuda.mem_get_info(i);
            gpus.Add(new GpuInfo
            {
                Index = i, Name = name, TotalMemoryBytes = total, FreeMemoryBytes = free, ComputeMajor = major, ComputeMinor = minor,
                Source = "libtorch", UsableByTorch = true,
            });
        }
        return gpus;
    }

    private static string? ReadOrNull(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
