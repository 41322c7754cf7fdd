using System.Text.Json;

namespace FineTuneAgent.Console.Tests;

/// <summary>
/// Built once: `fta model init` (the tiny Qwen3, real tokenizer), eight short Alpaca rows, and `fta train` of a
/// LoRA adapter on them for 12 steps (a recorded run).
/// </summary>
public sealed class TrainedTinyRun : IDisposable
{
    public TrainedTinyRun()
    {
        Directory.CreateDirectory(Folder);
        var (code, _, stderr) = Fta.Run("model", "init", "--template", "qwen3", "--size", "tiny", "--out", Model, "--seed", "5");
        if (code != 0)
            throw new InvalidOperationException("model init failed: " + stderr);
        File.WriteAllLines(Data,
        [
            """{"instruction": "What is the capital of France?", "output": "Paris"}""",
            """{"instruction": "Name a primary colour.", "output": "Red"}""",
            """{"instruction": "中国最长的河流是哪一条？", "output": "长江"}""",
            """{"instruction": "How many legs does a spider have?", "output": "Eight"}""",
            """{"instruction": "Translate 'thank you' into Chinese.", "output": "谢谢"}""",
            """{"instruction": "What do bees make?", "output": "Honey"}""",
            """{"instruction": "一年有几个季节？", "output": "四个"}""",
            """{"instruction": "What is two plus two?", "output": "Four"}""",
        ]);
        (code, var stdout, stderr) = Fta.Run("train", "--model", Model, "--data", Data, "--method", "lora", "--lora-rank", "8", "--max-steps", "12",
            "--lr", "1e-2", "--batch-size", "4", "--json", "--runs-dir", Runs);
        if (code != 0)
            throw new InvalidOperationException("train failed: " + stderr + stdout);
        using var summary = JsonDocument.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
        RunId = summary.RootElement.GetProperty("run_id").GetString()!;
        Adapter = summary.RootElement.GetProperty("output_dir").GetString()!;
    }

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"fta-eval-cli-{Guid.NewGuid():N}");

    public string Model => Path.Combine(Folder, "model");

    public string Data => Path.Combine(Folder, "qa.jsonl");

    public string Runs => Path.Combine(Folder, "runs");

    public string RunId { get; }

    public string Adapter { get; }

    public void Dispose()
    {
        if (Directory.Exists(Folder))
            Directory.Delete(Folder, recursive: true);
    }
}

/// <summary>`fta eval` as a user runs it: a side-by-side table, one JSON object, results stored with the run, clear errors.</summary>
public sealed class EvalCommandTests(TrainedTinyRun run) : IClassFixture<TrainedTinyRun>
{
    [Fact]
    public void Eval_Json_BaseAndTuned_TunedLowerOnItsTrainingRows_StoredWithTheRun()
    {
        var (code, stdout, stderr) = Fta.Run("eval", "--model", run.Model, "--adapter", run.Adapter, "--data", run.Data, "--max-new-tokens", "3",
            "--run", run.RunId, "--runs-dir", run.Runs, "--json");
        Assert.True(code == 0, stderr + stdout);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal("lora", root.GetProperty("method").GetString());
        var baseLoss = root.GetProperty("base").GetProperty("validation").GetProperty("loss").GetDouble();
        var tunedLoss = root.GetProperty("tuned").GetProperty("validation").GetProperty("loss").GetDouble();
        Assert.True(tunedLoss < baseLoss - 0.5, $"held-out loss base {baseLoss:F3}, tuned {tunedLoss:F3}");
        foreach (var model in new[] { "base", "tuned" })
        {
            var generation = root.GetProperty(model).GetProperty("generation");
            Assert.Equal(8, generation.GetProperty("samples").GetInt32());
            Assert.True(generation.GetProperty("tokens_per_second").GetDouble() > 0);
            Assert.True(generation.GetProperty("time_to_first_token_ms").GetDouble() > 0);
            foreach (var metric in new[] { "bleu-4", "rouge-1", "rouge-2", "rouge-l", "exact_match" })
                Assert.InRange(generation.GetProperty(metric).GetDouble(), 0, 100);
            Assert.True(root.GetProperty(model).GetProperty("general_text").GetProperty("perplexity").GetDouble() > 1);
            Assert.Equal(8, root.GetProperty(model).GetProperty("predictions").GetArrayLength());
        }
        Assert.True(root.GetProperty("forgetting").TryGetProperty("general_text_loss_increase", out _));

        var evalFile = root.GetProperty("eval_file").GetString()!;
        Assert.Equal(Path.Combine(run.Adapter, "eval.json"), evalFile);
        using var stored = JsonDocument.Parse(File.ReadAllText(evalFile));
        Assert.Equal(tunedLoss, stored.RootElement.GetProperty("tuned").GetProperty("validation").GetProperty("loss").GetDouble());
        using var record = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Runs, run.RunId, "run.json")));
        Assert.Equal(evalFile, record.RootElement.GetProperty("eval").GetString());
        Assert.Equal("completed", record.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public void Eval_Table_ShowsBaseAndTunedColumns()
    {
        var (code, stdout, stderr) = Fta.Run("eval", "--model", run.Model, "--adapter", run.Adapter, "--data", run.Data, "--max-samples", "2", "--max-new-tokens", "2");
        Assert.True(code == 0, stderr + stdout);
        var header = stdout.Split('\n').First(l => l.Contains("Metric"));
        Assert.Contains("Base", header);
        Assert.Contains("Tuned (lora)", header);
        Assert.Contains("Change", header);
        foreach (var row in new[] { "held-out loss (2 rows", "held-out perplexity", "general-text loss (forgetting", "BLEU-4 (2 prompts)", "ROUGE-1", "ROUGE-2", "ROUGE-L", "exact match (2 short answers)", "tokens/s", "time to first token" })
            Assert.Contains(row, stdout);
        Assert.Contains("eval: tuned: held-out loss", stderr);
    }

    [Fact]
    public void Eval_BadInputs_AreNamed()
    {
        var missing = Path.Combine(run.Folder, "missing.jsonl");
        var (code, _, stderr) = Fta.Run("eval", "--model", run.Model, "--data", missing);
        Assert.Equal(1, code);
        Assert.Contains($"fta: error: {missing}", stderr);
        Assert.Contains("not found", stderr);

        var bad = Path.Combine(run.Folder, "bad.jsonl");
        File.WriteAllText(bad, "{\"instruction\": \"hi\", \"output\": \"hello\"}\n{\"instruction\": \"oops\" \"output\": 1}\n");
        (code, _, stderr) = Fta.Run("eval", "--model", run.Model, "--adapter", run.Adapter, "--data", bad);
        Assert.Equal(1, code);
        Assert.Contains($"{bad}:2", stderr);

        (code, _, stderr) = Fta.Run("eval", "--model", run.Model, "--data", run.Data, "--run", "no-such-run", "--runs-dir", run.Runs);
        Assert.Equal(1, code);
        Assert.Contains("no run 'no-such-run'", stderr);

        var llama = Path.Combine(run.Folder, "llama");
        Assert.Equal(0, Fta.Run("model", "init", "--template", "llama", "--size", "tiny", "--out", llama).exitCode);
        (code, _, stderr) = Fta.Run("eval", "--model", llama, "--adapter", run.Adapter, "--data", run.Data);
        Assert.Equal(1, code);
        Assert.Contains("this adapter is for another model", stderr);
        Assert.DoesNotContain("   at ", stderr); // one clear line, no stack trace
    }
}
