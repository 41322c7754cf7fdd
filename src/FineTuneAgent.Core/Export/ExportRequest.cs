using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Export;

/// <summary>One export: what to write from which model (and adapter), where, and how.</summary>
public sealed record ExportRequest
{
    public required ExportFormat Format { get; init; }

    public required string ModelDirectory { get; init; }

    /// <summary>What a method saved (PEFT adapter, Freeze or Full save); null exports the model alone (merged, gguf).</summary>
    public string? AdapterDirectory { get; init; }

    /// <summary>A folder for peft and merged, a .gguf file for gguf.</summary>
    public required string OutputPath { get; init; }

    /// <summary>Merged export's stored dtype (null: the base's).</summary>
    public ScalarType? DType { get; init; }

    /// <summary>GGUF tensor type: f32, f16, q8_0 or q4_0.</summary>
    public string Quant { get; init; } = "f16";

    public string MaxShardSize { get; init; } = "5GB";
}
