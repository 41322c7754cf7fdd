namespace FineTuneAgent.Core.Evaluation;

/// <summary>One model's results: loss on the held-out rows, loss on the general texts, and generation.</summary>
public sealed record ModelEvaluation(LossMetrics Validation, LossMetrics GeneralText, GenerationMetrics Generation);
