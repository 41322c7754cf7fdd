using System.Text.Json;

namespace FineTuneAgent.Console.Tests;

/// <summary>`fta bench ddp --no-step-time --json`: the gradient bytes it reports against a count from the models' shapes.</summary>
public sealed class DdpBenchCommandTests
{
    /// <summary>LoRA's trainable parameters: r·(in + out) for q, k, v, o, gate, up and down of every layer (PEFT's A and B).</summary>
    private static long LoraParameters(int layers, int hidden, int heads, int kvHeads, int headDim, int intermediate, int r)
    {
        (int In, int Out)[] linears =
        [
            (hidden, heads * headDim), (hidden, kvHeads * headDim), (hidden, kvHeads * headDim), (heads * headDim, hidden),
            (hidden, intermediate), (hidden, intermediate), (intermediate, hidden),
        ];
        return (long)layers * linears.Sum(l => (long)r * (l.In + l.Out));
    }

    /// <summary>Every weight of a Qwen3 with tied embeddings: embedding, per layer q/k/v/o, MLP, 2 norms and q/k norms, final norm.</summary>
    private static long FullParameters(int vocab, int layers, int hidden, int heads, int kvHeads, int headDim, int intermediate)
    {
        long perLayer = (long)hidden * heads * headDim * 2 + 2L * hidden * kvHeads * headDim + 3L * hidden * intermediate + 2L * hidden + 2L * headDim;
        return (long)vocab * hidden + layers * perLayer + hidden;
    }

    [Fact]
    public void BenchDdp_ReportsGradientBytesOfTheTrainableParameters_AndAllReduceRates()
    {
        var (code, stdout, stderr) = Fta.Run("bench", "ddp", "--no-step-time", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        var traffic = doc.RootElement.GetProperty("traffic").EnumerateArray()
            .ToDictionary(t => (t.GetProperty("model").GetString()!, t.GetProperty("method").GetString()!), t => t);

        // Built-in tiny: hidden 64, 2 layers, 4 heads, 2 KV heads, head_dim 32, intermediate 192. Qwen3-0.6B: its config.json.
        var expected = new Dictionary<(string, string), long>
        {
            [("qwen3 tiny (built-in)", "LoRA r16")] = LoraParameters(2, 64, 4, 2, 32, 192, 16),
            [("qwen3 tiny (built-in)", "Full")] = FullParameters(151936, 2, 64, 4, 2, 32, 192),
            [("Qwen3-0.6B (computed)", "LoRA r16")] = LoraParameters(28, 1024, 16, 8, 128, 3072, 16),
            [("Qwen3-0.6B (computed)", "Full")] = FullParameters(151936, 28, 1024, 16, 8, 128, 3072),
        };
        Assert.Equal(expected.Keys.Order(), traffic.Keys.Order());
        foreach (var (key, parameters) in expected)
        {
            Assert.Equal(parameters, traffic[key].GetProperty("trainable").GetInt64());
            Assert.Equal(parameters * 4 / (1024.0 * 1024.0), traffic[key].GetProperty("gradient_mib").GetDouble(), 1e-9);
        }
        Assert.Equal(596_049_920, expected[("Qwen3-0.6B (computed)", "Full")]); // "0.6B", with 0.44B outside the embedding, as Qwen publishes
        // The tiny Full model's embedding (151,936 x 64 floats, 37 MiB) is above the 25 MiB cap: a bucket of its own.
        Assert.Equal(2, traffic[("qwen3 tiny (built-in)", "Full")].GetProperty("buckets").GetInt32());

        var rates = doc.RootElement.GetProperty("allreduce").EnumerateArray().ToList();
        Assert.Equal([1, 16, 64], rates.Select(r => r.GetProperty("mib").GetInt32()));
        Assert.All(rates, r => Assert.True(r.GetProperty("mib_per_second").GetDouble() > 0));
        Assert.Empty(doc.RootElement.GetProperty("step_time").EnumerateArray());
    }
}
