using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneAgent.Core.Hardware;

/// <summary>What <see cref="HardwareProbe"/> found: the CPU, the GPUs (none on a CPU-only machine), libtorch's build, and set-up problems.</summary>
public sealed record HardwareReport
{
    public required string Host { get; init; }

    public required CpuInfo Cpu { get; init; }

    public required IReadOnlyList<GpuInfo> Gpus { get; init; }

    public required string TorchVersion { get; init; }

    /// <summary>Whether the native shim was compiled against a CUDA build of libtorch.</summary>
    public required bool TorchCudaBuild { get; init; }

    public required IReadOnlyList<SetupProblem> Problems { get; init; }

    /// <summary>How `fta hw --json` prints a report and the history stores it: snake_case names, indented.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The report as a JSON object (the run history's hardware snapshot).</summary>
    public JsonObject ToJson() => JsonSerializer.SerializeToNode(this, JsonOptions)!.AsObject();
}
