using System.Runtime.Intrinsics.X86;
using FineTuneAgent.Core.Hardware;
using FineTuneAgent.Core.Tests.Training;

namespace FineTuneAgent.Core.Tests.Hardware;

/// <summary>
/// The probe on this machine (checked against .NET's own CPUID view), and on machines played by
/// captured /proc text and a fake nvidia-smi script answering the probe's queries.
/// </summary>
public class HardwareProbeTests
{
    // Lines as /proc/cpuinfo prints them on a Sapphire Rapids server (flags trimmed to the ones that matter plus neighbours).
    private const string SapphireRapids = """
        processor	: 0
        vendor_id	: GenuineIntel
        model name	: Intel(R) Xeon(R) Platinum 8480+
        flags		: fpu vme sse sse2 avx avx2 fma avx512f avx512dq avx512bw avx512vl avx512_bf16 amx_bf16 amx_tile amx_int8

        processor	: 1
        model name	: Intel(R) Xeon(R) Platinum 8480+
        flags		: fpu vme sse sse2 avx avx2 fma avx512f avx512dq avx512bw avx512vl avx512_bf16 amx_bf16 amx_tile amx_int8
        """;

    private const string Skylake = """
        processor	: 0
        model name	: Intel(R) Core(TM) i7-6700 CPU @ 3.40GHz
        flags		: fpu vme sse sse2 avx avx2 fma
        """;

    private const string MemInfo = """
        MemTotal:       24684084 kB
        MemFree:        18776072 kB
        MemAvailable:   22266912 kB
        HugePages_Total:       0
        """;

    [Fact]
    public void Cpu_FromCpuinfo_FindsModelAndBf16InstructionSets()
    {
        var spr = HardwareProbe.ParseCpu(SapphireRapids, MemInfo, 112, 56);
        Assert.Equal("Intel(R) Xeon(R) Platinum 8480+", spr.Model);
        Assert.True(spr.Avx2 && spr.Avx512 && spr.Avx512Bf16 && spr.AmxBf16 && spr.Bf16);
        Assert.Equal(["AVX2", "AVX-512", "AVX-512 BF16", "AMX BF16"], spr.InstructionSets);
        Assert.Equal(24684084L * 1024, spr.TotalMemoryBytes);
        Assert.Equal(22266912L * 1024, spr.AvailableMemoryBytes);

        var old = HardwareProbe.ParseCpu(Skylake, "", 8, 8);
        Assert.True(old.Avx2);
        Assert.False(old.Avx512 || old.Bf16);
        Assert.Equal(0, old.TotalMemoryBytes);

        var arm = HardwareProbe.ParseCpu("processor\t: 0\nFeatures\t: fp asimd evtstrm aes bf16\n", "", 4, 4);
        Assert.Equal("unknown CPU", arm.Model);
        Assert.False(arm.Avx2);
    }

    [Fact]
    public void MemInfo_WithoutMemAvailable_FallsBackToMemFree()
    {
        var cpu = HardwareProbe.ParseCpu("", "MemTotal: 1000 kB\nMemFree: 400 kB\n", 1, 1);
        Assert.Equal(400L * 1024, cpu.AvailableMemoryBytes);
    }

    [Fact]
    public void ThisMachine_ProbesWithoutFailing_AndAgreesWithDotNetsCpuid()
    {
        var report = new HardwareProbe().Probe();
        Assert.Equal(Environment.ProcessorCount, report.Cpu.LogicalCores);
        Assert.True(report.Cpu.TotalMemoryBytes > report.Cpu.AvailableMemoryBytes && report.Cpu.AvailableMemoryBytes > 0);
        Assert.Equal(Avx2.IsSupported, report.Cpu.Avx2);
        Assert.Equal(Avx512F.IsSupported, report.Cpu.Avx512);
        if (!report.TorchCudaBuild)
            Assert.All(report.Gpus, g => Assert.False(g.UsableByTorch));
    }

    [Fact]
    public void GpuPresent_ButCpuOnlyLibtorch_IsCalledOut_WithTheTorchDirFix()
    {
        using var smi = FakeNvidiaSmi.Create("""
            0, GPU-aaaa, NVIDIA GeForce RTX 4090, 24564, 24000, 8.9
            """);
        var report = Probe(smi.Path);
        var gpu = Assert.Single(report.Gpus);
        Assert.Equal("NVIDIA GeForce RTX 4090", gpu.Name);
        Assert.Equal(24564L << 20, gpu.TotalMemoryBytes);
        Assert.True(gpu.Bf16);
        Assert.False(gpu.UsableByTorch);
        var problem = Assert.Single(report.Problems);
        Assert.Equal("torch-without-cuda", problem.Code);
        Assert.Contains("RTX 4090", problem.Problem, StringComparison.Ordinal);
        Assert.Contains("TORCH_DIR", problem.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void OldGpu_HasNoBf16_AndMemoryHeldByAnotherProcessIsNamed()
    {
        using var smi = FakeNvidiaSmi.Create("""
            0, GPU-t4, Tesla T4, 15360, 3000, 7.5
            1, GPU-a100, NVIDIA A100-SXM4-80GB, 81920, 81000, 8.0
            """, apps: """
            GPU-t4, 4242, python3, 12000
            """);
        var report = Probe(smi.Path, cudaBuild: true, torchGpus: []);
        Assert.Equal(2, report.Gpus.Count);
        Assert.Contains(report.Problems, p => p.Code == "cuda-unusable");
        var bf16 = Assert.Single(report.Problems, p => p.Code == "gpu-without-bf16");
        Assert.Contains("Tesla T4", bf16.Problem, StringComparison.Ordinal);
        Assert.Contains("7.5", bf16.Problem, StringComparison.Ordinal);
        Assert.Contains("fp16", bf16.Fix, StringComparison.Ordinal);
        var held = Assert.Single(report.Problems, p => p.Code == "gpu-memory-held");
        Assert.Contains("python3 (pid 4242", held.Problem, StringComparison.Ordinal);
        Assert.Contains("12.1 GiB", held.Problem, StringComparison.Ordinal); // 15360 − 3000 MiB
    }

    [Fact]
    public void LibtorchGpus_ArePreferred_OverTheDriversList()
    {
        using var smi = FakeNvidiaSmi.Create("0, GPU-x, NVIDIA L40, 46068, 46000, 8.9\n");
        var fromTorch = new GpuInfo
        {
            Index = 0, Name = "NVIDIA L40", TotalMemoryBytes = 46068L << 20, FreeMemoryBytes = 45000L << 20, ComputeMajor = 8, ComputeMinor = 9,
            Source = "libtorch", UsableByTorch = true,
        };
        var report = Probe(smi.Path, cudaBuild: true, torchGpus: [fromTorch]);
        Assert.Equal("libtorch", Assert.Single(report.Gpus).Source);
        Assert.Empty(report.Problems);
    }

    [Fact]
    public void DriverWithoutComputeCapField_IsQueriedAgainWithoutIt()
    {
        using var smi = FakeNvidiaSmi.Create("0, GPU-old, Quadro P5000, 16384, 16000\n", rejectComputeCap: true);
        var report = Probe(smi.Path);
        var gpu = Assert.Single(report.Gpus);
        Assert.Equal("Quadro P5000", gpu.Name);
        Assert.Equal(0, gpu.ComputeMajor); // unknown: no bf16 verdict either way
        Assert.DoesNotContain(report.Problems, p => p.Code == "gpu-without-bf16");
    }

    [Fact]
    public void FailingNvidiaSmi_IsAProblem_NotAnError()
    {
        using var smi = FakeNvidiaSmi.Failing("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.");
        var report = Probe(smi.Path);
        Assert.Empty(report.Gpus);
        var problem = Assert.Single(report.Problems);
        Assert.Equal("nvidia-smi-failed", problem.Code);
        Assert.Contains("couldn't communicate", problem.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingNvidiaSmi_MeansNoGpus()
    {
        var report = Probe("/nonexistent/nvidia-smi");
        Assert.Empty(report.Gpus);
        Assert.Empty(report.Problems);
    }

    [Fact]
    public void MalformedNvidiaSmiOutput_NamesTheLine()
    {
        var e = Assert.Throws<FormatException>(() => NvidiaSmi.ParseGpus("0, GPU-a, A, 100, 50, 8.0\n1, GPU-b, B, lots, 50, 8.0\n"));
        Assert.Contains("line 2", e.Message, StringComparison.Ordinal);
        Assert.Contains("memory.total", e.Message, StringComparison.Ordinal);
        var names = NvidiaSmi.ParseGpus("0, GPU-c, NVIDIA RTX A6000, Ada, 49140, 49000, 8.6\n");
        Assert.Equal("NVIDIA RTX A6000, Ada", Assert.Single(names).Gpu.Name);
    }

    [Fact]
    public void FewerTorchThreadsThanCores_IsCalledOut()
    {
        var report = new HardwareProbe
        {
            NvidiaSmiExecutable = "/nonexistent/nvidia-smi",
            TorchThreads = () => 1,
            CpuInfoText = () => Skylake,
        }.Probe();
        if (Environment.ProcessorCount > 1)
            Assert.Contains(report.Problems, p => p.Code == "torch-threads" && p.Fix.Contains("OMP_NUM_THREADS", StringComparison.Ordinal));
        else
            Assert.DoesNotContain(report.Problems, p => p.Code == "torch-threads");
    }

    private static HardwareReport Probe(string smi, bool cudaBuild = false, IReadOnlyList<GpuInfo>? torchGpus = null) => new HardwareProbe
    {
        NvidiaSmiExecutable = smi,
        TorchCudaBuild = () => cudaBuild,
        TorchGpus = () => torchGpus ?? [],
        TorchThreads = () => Environment.ProcessorCount,
    }.Probe();

    /// <summary>A shell script standing in for nvidia-smi: answers --query-gpu and --query-compute-apps with canned CSV.</summary>
    private sealed class FakeNvidiaSmi : IDisposable
    {
        private readonly TempFolder _folder = new();

        private FakeNvidiaSmi() => Directory.CreateDirectory(_folder.Path);

        public string Path => System.IO.Path.Combine(_folder.Path, "nvidia-smi");

        public static FakeNvidiaSmi Create(string gpus, string apps = "", bool rejectComputeCap = false)
        {
            var fake = new FakeNvidiaSmi();
            File.WriteAllText(System.IO.Path.Combine(fake._folder.Path, "gpus.csv"), gpus);
            File.WriteAllText(System.IO.Path.Combine(fake._folder.Path, "apps.csv"), apps);
            var reject = rejectComputeCap
                ? "case \"$1\" in *compute_cap*) echo 'Field \"compute_cap\" is not a valid field to query.'; exit 2;; esac\n"
                : "";
            fake.Write("#!/bin/sh\n" + reject +
                "case \"$1\" in --query-gpu=*) cat \"$(dirname \"$0\")/gpus.csv\";; --query-compute-apps=*) cat \"$(dirname \"$0\")/apps.csv\";; *) exit 3;; esac\n");
            return fake;
        }

        public static FakeNvidiaSmi Failing(string message)
        {
            var fake = new FakeNvidiaSmi();
            fake.Write($"#!/bin/sh\necho \"{message}\"\nexit 9\n");
            return fake;
        }

        private void Write(string script)
        {
            File.WriteAllText(Path, script);
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        public void Dispose() => _folder.Dispose();
    }
}
