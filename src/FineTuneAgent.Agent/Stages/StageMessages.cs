using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Quantization;
using FineTuneAgent.Modeling.Chat;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Agent.Stages;

/// <summary>Progress a stage reports to whoever asked it to work (the job supervisor, a console).</summary>
public sealed record StageProgress(string Stage, string Message, int Done = 0, int Total = 0);

/// <summary>DatasetStage: read, validate, clean, template, tokenize, mask, pack and split (or read the cache).</summary>
public sealed record PrepareDataset(DatasetRequest Request, string ModelDirectory, IChatFormat Format);

/// <summary>DatasetStage's answer to <see cref="PrepareDataset"/>.</summary>
public sealed record DatasetPrepared(PreparedDataset Dataset);

/// <summary>QuantizerStage: load a checkpoint's projections quantized, tensor by tensor, through the cache.</summary>
public sealed record QuantizeBase(string ModelDirectory, QuantizationScheme Scheme, string? CacheDirectory, ScalarType? ComputeDtype = null);

/// <summary>QuantizerStage's answer to <see cref="QuantizeBase"/>; the model belongs to the receiver.</summary>
public sealed record BaseQuantized(QuantizedBaseResult Result);
