namespace FineTuneAgent.Core.Export.Gguf;

/// <summary>One tensor written: its place among all, its GGUF name and the type it was stored as.</summary>
public sealed record GgufExportProgress(int Index, int Count, string TensorName, GgmlType Type);
