using System.Text.Json;

namespace FineTuneAgent.Modeling.Tests;

/// <summary>Runs tests/compat/reference_model.py (plain PyTorch from Debian's python3-torch) on a checkpoint folder.</summary>
internal static class ReferenceModel
{
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FineTuneAgent.sln")))
                return dir.FullName;
        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Logits (B·S·V, row-major) and, when labels are given, the causal-LM loss.</summary>
    public static (float[] logits, float? loss) Run(string modelDir, long[][] inputIds, long[][]? attentionMask = null, long[][]? labels = null)
    {
        var work = Path.Combine(Path.GetTempPath(), $"fta-ref-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            var input = Path.Combine(work, "input.json");
            var output = Path.Combine(work, "output.bin");
            File.WriteAllText(input, JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["input_ids"] = inputIds,
                ["attention_mask"] = attentionMask,
                ["labels"] = labels,
            }));
            CompatPython.Run("reference_model.py", modelDir, input, output);
            var bytes = File.ReadAllBytes(output);
            var count = inputIds.Length * inputIds[0].Length;
            var floats = new float[bytes.Length / 4];
            Buffer.BlockCopy(bytes, 0, floats, 0, bytes.Length);
            if (labels is null)
                return (floats, null);
            return (floats[..^1], floats[^1]);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
