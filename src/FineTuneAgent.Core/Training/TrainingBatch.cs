using FineTuneAgent.Core.Datasets;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// One micro-batch as tensors (B, S): rows padded on the right with the pad id, labels
/// <see cref="TokenizedExample.IgnoreIndex"/> on padding, attention mask 1 on real tokens, and position
/// ids that restart at every packed example's start.
/// </summary>
/// <remarks>
/// The model treats a position id of 0 inside a row as the start of a packed example and masks
/// attention across examples (block-diagonal); padding continues the last example's positions, so it
/// never starts one. Labels never cross a boundary (see <see cref="TrainingSequence"/>).
/// </remarks>
public sealed class TrainingBatch : IDisposable
{
    private TrainingBatch(Tensor inputIds, Tensor labels, Tensor attentionMask, Tensor positionIds, long realTokens, long labelTokens)
    {
        InputIds = inputIds;
        Labels = labels;
        AttentionMask = attentionMask;
        PositionIds = positionIds;
        RealTokens = realTokens;
        LabelTokens = labelTokens;
    }

    public Tensor InputIds { get; }

    public Tensor Labels { get; }

    public Tensor AttentionMask { get; }

    public Tensor PositionIds { get; }

    /// <summary>Tokens that are not padding.</summary>
    public long RealTokens { get; }

    /// <summary>Tokens that carry loss after the shift by one (what HF's num_items_in_batch counts).</summary>
    public long LabelTokens { get; }

    /// <summary>Labels that carry loss once shifted by one: every label but the first of each row.</summary>
    public static long CountLabelTokens(TrainingSequence row)
    {
        long n = 0;
        for (var i = 1; i < row.Labels.Length; i++)
            if (row.Labels[i] != TokenizedExample.IgnoreIndex)
                n++;
        return n;
    }

    public static TrainingBatch Collate(IReadOnlyList<TrainingSequence> rows, int padTokenId)
    {
        if (rows.Count == 0)
            throw new ArgumentException("a batch needs at least one row", nameof(rows));
        var b = rows.Count;
        var s = rows.Max(r => r.Length);
        var ids = new long[b * s];
        var labels = new long[b * s];
        var mask = new long[b * s];
        var positions = new long[b * s];
        long real = 0, counted = 0;
        for (var r = 0; r < b; r++)
        {
            var row = rows[r];
            var rowPositions = row.PositionIds();
            var offset = r * s;
            for (var i = 0; i < s; i++)
            {
                var inRow = i < row.Length;
                ids[offset + i] = inRow ? row.InputIds[i] : padTokenId;
                labels[offset + i] = inRow ? row.Labels[i] : TokenizedExample.IgnoreIndex;
                mask[offset + i] = inRow ? 1 : 0;
                positions[offset + i] = inRow ? rowPositions[i] : (row.Length == 0 ? i : rowPositions[^1] + i - row.Length + 1);
            }
            real += row.Length;
            counted += CountLabelTokens(row);
        }
        return new TrainingBatch(
            tensor(ids, [b, s]).DetachFromDisposeScope(),
            tensor(labels, [b, s]).DetachFromDisposeScope(),
            tensor(mask, [b, s]).DetachFromDisposeScope(),
            tensor(positions, [b, s]).DetachFromDisposeScope(),
            real,
            counted);
    }

    public void Dispose()
    {
        InputIds.Dispose();
        Labels.Dispose();
        AttentionMask.Dispose();
        PositionIds.Dispose();
    }
}
