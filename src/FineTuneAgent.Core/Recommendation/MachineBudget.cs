using FineTuneAgent.Core.Hardware;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Recommendation;

/// <summary>The memory budget and training dtypes of this machine, as the probe found it.</summary>
public static class MachineBudget
{
    /// <summary>The usable GPU with the most free memory (bf16, or fp16 below compute 8.0); else the CPU's available memory in fp32.</summary>
    public static (MemoryBudget Budget, Recommender.Request Request) Of(HardwareReport report)
    {
        var gpu = report.Gpus.Where(g => g.UsableByTorch).MaxBy(g => g.FreeMemoryBytes);
        if (gpu is not null)
        {
            var dtype = gpu.Bf16 ? ScalarType.BFloat16 : ScalarType.Float16;
            return (MemoryBudget.Gpu($"GPU {gpu.Index} ({gpu.Name})", gpu.FreeMemoryBytes), new Recommender.Request { WeightDtype = dtype, ComputeDtype = dtype });
        }
        return (MemoryBudget.Cpu($"the CPU ({report.Cpu.Model}, {report.Cpu.LogicalCores} cores)", report.Cpu.AvailableMemoryBytes),
            new Recommender.Request { WeightDtype = ScalarType.Float32, ComputeDtype = ScalarType.Float32, MaxMicroBatchSize = 4 });
    }
}
