using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Quantization;
using FineTuneAgent.Modeling.Chat;
using FineTuneAgent.Modeling.Tokenization;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Agent.Stages;

/// <summary>Progress a stage reports to whoever asked it to work (the job supervisor, a console).</summary>
public sealed record StageProgress(string Stage, string Message, int Done = 0, int Total = 0);

/// <summary>
/// DatasetStage: read, validate, clean, template, tokenize, mask, pack and split (or read the cache), with the
/// tokenizer of <see cref="ModelDirectory"/> (or <see cref="Tokenizer"/>, when the caller has it loaded already:
/// it must be the one of that folder, whose files are part of the cache key).
/// </summary>
public sealed record PrepareDataset(DatasetRequest Request, string ModelDirectory, IChatFormat Format)
{
    public ITokenizer? Tokenizer { get; init; }
}

/// <summary>DatasetStage's answer to <see cref="PrepareDataset"/>.</summary>
public sealed record DatasetPrepared(PreparedDataset Dataset);

/// <summary>
/// QuantizerStage: make sure <see cref="CacheDirectory"/> holds the checkpoint's projections quantized, tensor by
/// tensor (read and checked when already there). The trainer loads the quantized base from there: models do
/// not travel in messages.
/// </summary>
public sealed record QuantizeBase(string ModelDirectory, QuantizationScheme Scheme, string CacheDirectory, ScalarType? ComputeDtype = null);

/// <summary>QuantizerStage's answer to <see cref="QuantizeBase"/>: where the quantized base is, and whether it was cached already.</summary>
public sealed record BaseQuantized(QuantizedBaseCache Cache);
