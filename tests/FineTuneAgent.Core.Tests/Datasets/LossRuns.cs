using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Core.Tests.Datasets;

internal static class LossRuns
{
    /// <summary>The decoded text of each run of consecutive loss-carrying tokens.</summary>
    public static string[] Decode(TrainingSequence row, ITokenizer tokenizer)
    {
        var runs = new List<string>();
        var run = new List<int>();
        for (var i = 0; i <= row.Length; i++)
        {
            if (i < row.Length && row.Labels[i] != TokenizedExample.IgnoreIndex)
            {
                Assert.Equal(row.InputIds[i], row.Labels[i]);
                run.Add(row.Labels[i]);
            }
            else if (run.Count > 0)
            {
                runs.Add(tokenizer.Decode(run));
                run.Clear();
            }
        }
        return [.. runs];
    }

    /// <summary>The decoded text of the tokens without loss (prompt), concatenated.</summary>
    public static string Prompt(TrainingSequence row, ITokenizer tokenizer) =>
        tokenizer.Decode(row.InputIds.Where((_, i) => row.Labels[i] == TokenizedExample.IgnoreIndex).ToArray());
}
