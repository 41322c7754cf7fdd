using FineTuneAgent.Core.Config;
using FineTuneAgent.Core.Hardware;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Recommendation;

/// <summary>What a profile trains on: a GPU or the CPU.</summary>
public enum DeviceKind
{
    Gpu,
    Cpu,
}

/// <summary>A profile's training device (one per workstation), bound from `profile.device` in its HOCON file.</summary>
public sealed record ProfileDevice
{
    public DeviceKind Kind { get; init; } = DeviceKind.Gpu;

    public string Name { get; init; } = "";

    /// <summary>Total memory of the device (RAM for a CPU).</summary>
    [SizeInBytes]
    public long Memory { get; init; }

    /// <summary>Memory typically free for training (a desktop's display holds some); 0 means all of <see cref="Memory"/>.</summary>
    [SizeInBytes]
    public long Free { get; init; }

    /// <summary>bf16 in hardware (compute capability 8.0 and newer; AVX-512 BF16 or AMX on a CPU).</summary>
    public bool Bf16 { get; init; }

    public string? ComputeCapability { get; init; }

    public long FreeBytes => Free > 0 ? Free : Memory;
}

/// <summary>
/// A class of hardware to plan for without owning it (`profiles/*.hocon`, e.g. "what could I fine-tune on an
/// A100?"), or this machine as the probe found it. A pool of several workstations trains data-parallel: each
/// holds a whole copy, so what fits is what fits one device.
/// </summary>
public sealed record HardwareProfile
{
    public string Name { get; init; } = "";

    public string Description { get; init; } = "";

    public ProfileDevice Device { get; init; } = new();

    /// <summary>Workstations in the pool (1: a single machine).</summary>
    public int Workstations { get; init; } = 1;

    /// <summary>The memory budget of one device and the dtypes training would use on it (bf16 where supported, else fp16 on a GPU, fp32 on a CPU).</summary>
    public (MemoryBudget Budget, Recommender.Request Request) Plan()
    {
        var label = Workstations > 1 ? $"{Device.Name} (each of {Workstations} workstations)" : Device.Name;
        if (Device.Kind == DeviceKind.Cpu)
        {
            var dtype = Device.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
            return (MemoryBudget.Cpu(label, Device.FreeBytes), new Recommender.Request { WeightDtype = dtype, ComputeDtype = dtype, MaxMicroBatchSize = 4 });
        }
        var gpuDtype = Device.Bf16 ? ScalarType.BFloat16 : ScalarType.Float16;
        return (MemoryBudget.Gpu(label, Device.FreeBytes), new Recommender.Request { WeightDtype = gpuDtype, ComputeDtype = gpuDtype });
    }

    /// <summary>This machine: its usable GPU with the most free memory, else its CPU (as <see cref="MachineBudget"/> decides).</summary>
    public static HardwareProfile ThisMachine(HardwareReport report)
    {
        var gpu = report.Gpus.Where(g => g.UsableByTorch).MaxBy(g => g.FreeMemoryBytes);
        var device = gpu is not null
            ? new ProfileDevice { Kind = DeviceKind.Gpu, Name = gpu.Name, Memory = gpu.TotalMemoryBytes, Free = gpu.FreeMemoryBytes, Bf16 = gpu.Bf16, ComputeCapability = gpu.ComputeCapability }
            // fp32 on a CPU even with AVX-512 BF16: libtorch 1.13's CPU autocast is not faster here yet (issue 11).
            : new ProfileDevice { Kind = DeviceKind.Cpu, Name = report.Cpu.Model, Memory = report.Cpu.TotalMemoryBytes, Free = report.Cpu.AvailableMemoryBytes, Bf16 = false };
        return new HardwareProfile { Name = ThisMachineName, Description = $"this machine ({report.Host})", Device = device };
    }

    public const string ThisMachineName = "this-machine";
}
