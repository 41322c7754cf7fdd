using FineTuneAgent.Core.Datasets;

namespace FineTuneAgent.Core.Training;

/// <summary>The run entered one of its stages ("dataset", "quantizer", "trainer"), in the order they run.</summary>
public sealed record StageStarted(string Stage) : TrainingEvent;

/// <summary>
/// A stage's progress line: the dataset stage's "reading … / n of m rows kept", the quantizer's
/// "quantized &lt;tensor&gt;" with <see cref="Done"/> of <see cref="Total"/> tensors (both 0 when not counted).
/// </summary>
public sealed record StageProgressed(string Stage, string Message, int Done = 0, int Total = 0) : TrainingEvent;

/// <summary>The dataset stage's result: what was read, dropped and kept per file, the split, and whether the cache served it.</summary>
public sealed record DatasetReady(DatasetSummary Summary, CacheOutcome Cache) : TrainingEvent;

/// <summary>
/// The quantizer stage's result: the base's projections stored as <see cref="Scheme"/> in
/// <see cref="CacheFile"/>, read from that cache (<see cref="FromCache"/>) or quantized now;
/// <see cref="CacheProblem"/> says why a damaged cache was rebuilt.
/// </summary>
public sealed record QuantizedBaseReady(string Scheme, int Tensors, bool FromCache, string CacheFile, string? CacheProblem) : TrainingEvent;

/// <summary>
/// The evaluator stage's result, stored in <see cref="File"/> (eval.json): held-out loss of the base and the tuned
/// model, the forgetting check's rise in general-text loss, and ROUGE-L of their answers.
/// </summary>
public sealed record EvaluationReady(string File, double BaseLoss, double? TunedLoss, double? ForgettingIncrease, double BaseRougeL, double? TunedRougeL, int Prompts) : TrainingEvent;

/// <summary>The exporter stage wrote <see cref="Format"/> (peft, merged, gguf, gguf-adapter) to <see cref="Path"/>.</summary>
public sealed record ExportReady(string Format, string Path) : TrainingEvent;
