namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// One row the trainer feeds the model: token ids, labels (<see cref="TokenizedExample.IgnoreIndex"/>
/// where no loss) and the offset where each example inside it starts (<c>[0]</c> when not packed).
/// </summary>
/// <remarks>
/// Packed examples are concatenated; <see cref="PositionIds"/> restarts positions per example, and the
/// model reads each restart as a boundary, so attention is block-diagonal (each example attends only to
/// itself). <see cref="ExampleStarts"/> lists the same boundaries.
/// Labels never cross a boundary: the first token of every example is prompt (BOS or a role header) and
/// the packer sets its label to ignore regardless, so with the usual shift by one no example is trained
/// to predict the next one's first token.
/// </remarks>
public sealed record TrainingSequence(int[] InputIds, int[] Labels, int[] ExampleStarts)
{
    public int Length => InputIds.Length;

    /// <summary>Number of tokens that carry loss.</summary>
    public int LossTokens => Labels.Count(l => l != TokenizedExample.IgnoreIndex);

    /// <summary>Positions 0, 1, … restarting at each example's start.</summary>
    public int[] PositionIds()
    {
        var positions = new int[InputIds.Length];
        for (var e = 0; e < ExampleStarts.Length; e++)
        {
            var end = e + 1 < ExampleStarts.Length ? ExampleStarts[e + 1] : InputIds.Length;
            for (var i = ExampleStarts[e]; i < end; i++)
                positions[i] = i - ExampleStarts[e];
        }
        return positions;
    }

    /// <summary>The example <paramref name="index"/> as (ids, labels).</summary>
    public (int[] InputIds, int[] Labels) Example(int index)
    {
        var start = ExampleStarts[index];
        var end = index + 1 < ExampleStarts.Length ? ExampleStarts[index + 1] : InputIds.Length;
        return (InputIds[start..end], Labels[start..end]);
    }

    public static TrainingSequence Single(TokenizedExample example) => new(example.InputIds, example.Labels, [0]);
}
