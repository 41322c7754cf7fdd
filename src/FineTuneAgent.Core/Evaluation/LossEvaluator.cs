using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Training;
using FineTuneAgent.Modeling.Layers;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Evaluation;

/// <summary>
/// Loss and perplexity of a model over prepared rows (the dataset pipeline's <see cref="TrainingSequence"/>s):
/// micro-batches collated as the trainer does (right padding, packed rows with restarting positions),
/// <see cref="CausalLM.CausalLmLoss"/> (computed chunked by <see cref="LossHead"/>) summed per batch, divided by the label tokens of all rows.
/// </summary>
public static class LossEvaluator
{
    /// <param name="rowsDone">Called after each micro-batch with the rows evaluated so far.</param>
    public static LossMetrics Evaluate(CausalLM model, IReadOnlyList<TrainingSequence> rows, int padTokenId, int batchSize = 4,
        Action<int>? rowsDone = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            double sum = 0;
            long tokens = 0;
            var done = 0;
            foreach (var chunk in rows.Chunk(batchSize))
            {
                cancellation.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                using var batch = TrainingBatch.Collate(chunk, padTokenId);
                if (batch.LabelTokens > 0)
                {
                    var hidden = model.model.forward(batch.InputIds, batch.AttentionMask, positionIds: batch.PositionIds);
                    sum += LossHead.Loss(hidden, model.OutputWeight, batch.Labels, numItemsInBatch: 1).ToDouble();
                    tokens += batch.LabelTokens;
                }
                done += chunk.Length;
                rowsDone?.Invoke(done);
            }
            if (tokens == 0)
                throw new ArgumentException($"none of the {rows.Count} rows has a token that carries loss", nameof(rows));
            return new LossMetrics(sum / tokens, tokens, rows.Count);
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
