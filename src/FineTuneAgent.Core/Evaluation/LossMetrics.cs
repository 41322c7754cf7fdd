namespace FineTuneAgent.Core.Evaluation;

/// <summary>
/// Mean token loss (nats) over a set of rows: the sum of every label token's cross-entropy divided by their
/// number, so long rows weigh by their tokens, as the trainer's validation loss. Perplexity = exp(loss).
/// </summary>
public sealed record LossMetrics(double Loss, long Tokens, int Rows)
{
    public double Perplexity => Math.Exp(Loss);
}
