using System.Text.Json;

namespace FineTuneAgent.Console.Tests;

public sealed class HardwareCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"fta-hw-cli-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Hw_Json_DescribesThisMachinesCpu()
    {
        var (code, stdout, stderr) = Fta.Run("hw", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var cpu = doc.RootElement.GetProperty("cpu");
        Assert.Equal(Environment.ProcessorCount, cpu.GetProperty("logical_cores").GetInt32());
        Assert.True(cpu.GetProperty("total_memory_bytes").GetInt64() > 0);
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx2.IsSupported, cpu.GetProperty("avx2").GetBoolean());
        Assert.Equal(JsonValueKind.Array, doc.RootElement.GetProperty("gpus").ValueKind);
    }

    [Fact]
    public void Hw_WithAGpuTheCpuBuildCannotUse_PrintsTheProblemAndItsFix()
    {
        var (_, version, _) = Fta.Run("version", "--json");
        using (var v = JsonDocument.Parse(version))
            if (v.RootElement.GetProperty("CudaBuild").GetBoolean())
                return; // a CUDA build can use the GPU: the problem this test plays does not arise
        Directory.CreateDirectory(_dir);
        var smi = Path.Combine(_dir, "nvidia-smi");
        File.WriteAllText(smi, "#!/bin/sh\ncase \"$1\" in --query-gpu=*) echo '0, GPU-1, NVIDIA GeForce RTX 3060, 12288, 11800, 8.6';; esac\n");
        File.SetUnixFileMode(smi, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var (code, stdout, stderr) = Fta.Run("hw", "--nvidia-smi", smi);
        Assert.True(code == 0, stderr);
        Assert.Contains("NVIDIA GeForce RTX 3060", stdout, StringComparison.Ordinal);
        Assert.Contains("11.5 GiB / 12.0 GiB", stdout, StringComparison.Ordinal);
        Assert.Contains("problem:", stdout, StringComparison.Ordinal);
        Assert.Contains("TORCH_DIR", stdout, StringComparison.Ordinal);
    }
}
