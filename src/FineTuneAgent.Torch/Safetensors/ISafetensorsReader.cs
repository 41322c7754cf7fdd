namespace FineTuneAgent.Torch;

/// <summary>
/// Lazy access to the tensors of a checkpoint, a single safetensors file or a sharded one:
/// names and header entries come from headers alone, and a tensor's bytes are read only when
/// it is loaded. Loaded tensors are new CPU tensors the caller owns; they stay valid after
/// the reader is disposed.
/// </summary>
public interface ISafetensorsReader : IDisposable
{
    /// <summary>Tensor names, in the order their data is laid out.</summary>
    IReadOnlyList<string> Names { get; }

    bool Contains(string name);

    /// <summary>The header entry of a tensor; throws KeyNotFoundException (naming the file) for an unknown name.</summary>
    SafetensorsTensorInfo GetInfo(string name);

    /// <summary>Reads one tensor into a new CPU tensor; throws SafetensorsException for a dtype this binding cannot hold.</summary>
    torch.Tensor Load(string name);

    /// <summary>
    /// Copies one tensor into an existing one of the same shape (converting dtype and device if
    /// needed). A contiguous CPU target of the stored dtype is filled straight from the file,
    /// without a temporary copy: loading a checkpoint then costs the model's memory, not twice it.
    /// </summary>
    void LoadInto(string name, torch.Tensor target);

    /// <summary>Loads every tensor; if one fails, those already loaded are disposed before the exception leaves.</summary>
    Dictionary<string, torch.Tensor> LoadAll();
}
