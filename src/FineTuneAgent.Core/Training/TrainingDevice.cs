using System.Globalization;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Training;

/// <summary>What libtorch reports about CUDA: whether the loaded build has it, and how many devices it sees.</summary>
public readonly record struct CudaFacts(bool Built, int DeviceCount)
{
    /// <summary>This process's libtorch (torch.cuda.is_built(), torch.cuda.device_count()).</summary>
    public static CudaFacts Probe() => new(cuda.is_built(), cuda.is_available() ? cuda.device_count() : 0);

    public override string ToString() => $"CUDA build: {(Built ? "yes" : "no")}, CUDA devices: {DeviceCount}";
}

/// <summary>
/// The <c>device</c> training option: its forms (<see cref="IsWellFormed"/>, a pure check that option parsing
/// uses) and what it means on this machine (<see cref="Resolve(string, CudaFacts, int)"/>, checked when a run
/// starts, before anything trains). auto is CUDA when libtorch sees a device (as
/// <c>"cuda" if torch.cuda.is_available() else "cpu"</c>), else the CPU. A bare cuda, and auto on a CUDA machine,
/// mean the process's own device: cuda:0 for a single process, cuda:&lt;local rank&gt; for a data-parallel worker
/// (torchrun's LOCAL_RANK, its index among the workers on its host).
/// </summary>
public static class TrainingDevice
{
    public const string Auto = "auto";

    public static bool IsWellFormed(string? value) =>
        value is Auto or "cpu" or "cuda" || (value is not null && value.StartsWith("cuda:", StringComparison.Ordinal) && Index(value) is not null);

    /// <summary>Whether the option asks for CUDA outright (cuda, cuda:N); auto may still resolve to it.</summary>
    public static bool IsCuda(string value) => value == "cuda" || value.StartsWith("cuda:", StringComparison.Ordinal);

    /// <summary><see cref="Resolve(string, CudaFacts, int)"/> with what this process's libtorch reports.</summary>
    public static Device Resolve(string value, int localRank = 0) => Resolve(value, CudaFacts.Probe(), localRank);

    /// <summary>
    /// The device the option means given <paramref name="cuda"/>; a <see cref="TrainingOptionsException"/> naming
    /// <c>device</c> when it is malformed or asks for a CUDA device libtorch does not have (saying what libtorch reports).
    /// </summary>
    public static Device Resolve(string value, CudaFacts cuda, int localRank = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(localRank);
        if (!IsWellFormed(value))
            throw Error($"\"{value}\" is not one of auto, cpu, cuda, cuda:N");
        if (value == "cpu" || (value == Auto && cuda.DeviceCount == 0))
            return CPU;
        var index = Index(value) ?? localRank;
        if (cuda.DeviceCount == 0)
            throw Error($"\"{value}\" asks for CUDA, but libtorch reports no CUDA device ({cuda}); use device: cpu or auto");
        if (index >= cuda.DeviceCount)
        {
            var which = Index(value) is null ? $"this worker's local rank {localRank} needs CUDA device {index}" : $"asks for CUDA device {index}";
            throw Error($"\"{value}\": {which}, but libtorch reports only {cuda.DeviceCount} CUDA device(s) (0..{cuda.DeviceCount - 1}; {cuda})");
        }
        return new Device(DeviceType.CUDA, index);
    }

    private static int? Index(string value) =>
        value.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(value.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : null;

    private static TrainingOptionsException Error(string message) => new([("device", message)]);
}
