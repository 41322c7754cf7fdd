namespace FineTuneAgent.Torch;

/// <summary>
/// A failure inside libtorch or the shim, carrying libtorch's message. The process survives it
/// and the next op works. Subclasses classify the failure so callers (a supervisor deciding
/// whether to retry with a smaller batch) decide on type, not on message text.
/// </summary>
public class TorchException : Exception
{
    public TorchException(string message) : base(message) { }

    public TorchException(string message, Exception inner) : base(message, inner) { }

    /// <summary>True when freeing memory or shrinking the work may let a retry succeed.</summary>
    public virtual bool IsOutOfMemory => false;
}

/// <summary>The allocator could not satisfy a request (host or device memory).</summary>
public sealed class TorchOutOfMemoryException(string message) : TorchException(message)
{
    public override bool IsOutOfMemory => true;
}

/// <summary>An argument libtorch rejected: a shape mismatch, an index out of range, a bad dtype.</summary>
public sealed class TorchArgumentException(string message) : TorchException(message);

/// <summary>A feature this libtorch build does not have (CUDA, NCCL) or an op not implemented for the inputs.</summary>
public sealed class TorchNotSupportedException(string message) : TorchException(message);

/// <summary>A collective or rendezvous failed: a timeout, a peer that went away.</summary>
public sealed class TorchDistributedException(string message) : TorchException(message);
