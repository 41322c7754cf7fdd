using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// Which c10d backend a data-parallel run's replicas join, from the device they train on: NCCL for CUDA (the backend
/// PyTorch DDP uses on GPUs: it reduces in device memory over NVLink/InfiniBand), Gloo for the CPU. A CUDA run
/// without NCCL in the native shim fails rather than falling back to Gloo: Gloo's CUDA all-reduce is not in every
/// libtorch build (and copies through host memory when it is), so a run that falls back would work on one
/// machine and not on the next. Every replica must choose the same backend; <see cref="DataParallelWorker"/>
/// checks that through the store before the group forms.
/// </summary>
public static class DataParallelBackend
{
    public const string Gloo = "gloo";
    public const string Nccl = "nccl";

    /// <summary>
    /// The backend for replicas on <paramref name="device"/>, and why; a <see cref="TrainingOptionsException"/> naming
    /// <c>device</c> when CUDA is asked of a shim without NCCL.
    /// </summary>
    public static (string Backend, string Reason) Choose(Device device, bool ncclBuilt)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.type != DeviceType.CUDA)
            return (Gloo, $"the replicas train on the CPU ({device}): Gloo");
        if (!ncclBuilt)
            throw new TrainingOptionsException([("device", $"{device}: a data-parallel run on CUDA needs NCCL, but the native shim was built without it " +
                "(torch.BuildFeatures().Nccl is false); rebuild the shim against a CUDA libtorch with NCCL, or train with device: cpu")]);
        return (Nccl, $"the replicas train on CUDA ({device}): NCCL");
    }
}
