using System.Text.Json;

namespace FineTuneAgent.Console.Tests;

/// <summary>`fta train` as a script sees it: the built-in tiny Qwen3 on the bundled samples, two steps.</summary>
public sealed class TrainCommandTests : IDisposable
{
    private readonly string _runs = Path.Combine(Path.GetTempPath(), $"fta-train-cli-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_runs))
            Directory.Delete(_runs, recursive: true);
    }

    private static List<JsonElement> Lines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    [Fact]
    public void Train_MaxSteps2_Json_EmitsEventLines_AndASummary_AndResumesByRunId()
    {
        var (code, stdout, stderr) = Fta.Run("train", "--max-steps", "2", "--json", "--runs-dir", _runs);
        Assert.True(code == 0, stderr + stdout);
        var lines = Lines(stdout);
        Assert.All(lines, l => Assert.True(l.TryGetProperty("event", out _)));
        Assert.Contains(lines, l => l.GetProperty("event").GetString() == "message" && l.GetProperty("text").GetString()!.Contains("auto picked full for the built-in model"));
        var steps = lines.Where(l => l.GetProperty("event").GetString() == "step").ToList();
        Assert.Equal([1, 2], steps.Select(s => s.GetProperty("step").GetInt32()));
        Assert.All(steps, s => Assert.True(double.IsFinite(s.GetProperty("loss").GetDouble()) && s.GetProperty("tokens_per_second").GetDouble() > 0));
        Assert.Contains(lines, l => l.GetProperty("event").GetString() == "eval");
        // The stages, in order: dataset (with its summary), the trainer (no quantizer for full), then the evaluator
        // on the held-out rows (the built-in job holds 5% out), whose results are stored with the run.
        Assert.Equal(["dataset", "trainer", "evaluator"], lines.Where(l => l.GetProperty("event").GetString() == "stage").Select(l => l.GetProperty("stage").GetString()));
        var evaluation = Assert.Single(lines, l => l.GetProperty("event").GetString() == "evaluation");
        Assert.True(File.Exists(evaluation.GetProperty("file").GetString()));
        Assert.True(evaluation.GetProperty("tuned_loss").GetDouble() < evaluation.GetProperty("base_loss").GetDouble());
        Assert.True(lines.IndexOf(evaluation) < lines.FindIndex(l => l.GetProperty("event").GetString() == "summary"));
        var dataset = Assert.Single(lines, l => l.GetProperty("event").GetString() == "dataset");
        Assert.True(lines.IndexOf(dataset) < lines.FindIndex(l => l.GetProperty("event").GetString() == "step"));
        var sources = dataset.GetProperty("sources").EnumerateArray().ToList();
        Assert.NotEmpty(sources);
        Assert.All(sources, s => Assert.True(s.GetProperty("rows").GetInt32() >= s.GetProperty("kept").GetInt32() && s.GetProperty("kept").GetInt32() > 0));
        Assert.True(dataset.GetProperty("train_rows").GetInt32() > 0 && dataset.GetProperty("validation_rows").GetInt32() > 0);

        var summary = lines[^1];
        Assert.Equal("summary", summary.GetProperty("event").GetString());
        var runId = summary.GetProperty("run_id").GetString()!;
        Assert.Equal("full", summary.GetProperty("method").GetString());
        Assert.Equal(2, summary.GetProperty("steps").GetInt32());
        Assert.Equal(steps[0].GetProperty("loss").GetDouble(), summary.GetProperty("first_train_loss").GetDouble());
        Assert.Equal(steps[1].GetProperty("loss").GetDouble(), summary.GetProperty("last_train_loss").GetDouble());
        Assert.True(double.IsFinite(summary.GetProperty("first_eval_loss").GetDouble()));
        Assert.True(double.IsFinite(summary.GetProperty("last_eval_loss").GetDouble()));
        var output = summary.GetProperty("output_dir").GetString()!;
        Assert.True(File.Exists(Path.Combine(output, "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(output, "fta_method.json")));
        Assert.True(File.Exists(Path.Combine(output, "checkpoint-2", "trainer_state.json")));
        Assert.True(File.Exists(Path.Combine(output, "checkpoint-2", "run_config.json")));

        using var record = JsonDocument.Parse(File.ReadAllText(Path.Combine(_runs, runId, "run.json")));
        Assert.Equal("completed", record.RootElement.GetProperty("status").GetString());
        Assert.Equal(evaluation.GetProperty("file").GetString(), record.RootElement.GetProperty("eval").GetString());
        Assert.Equal(["dataset", "step", "step", "eval", "checkpoint", "evaluation"],
            File.ReadAllLines(Path.Combine(_runs, runId, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("event").GetString()));

        // --resume by run id needs nothing else; the run is already at its last step, so it only finishes.
        var (code2, stdout2, stderr2) = Fta.Run("train", "--resume", runId, "--json", "--runs-dir", _runs);
        Assert.True(code2 == 0, stderr2 + stdout2);
        var resumed = Lines(stdout2);
        Assert.Contains(resumed, l => l.GetProperty("event").GetString() == "message" && l.GetProperty("text").GetString()!.Contains("resuming from"));
        Assert.DoesNotContain(resumed, l => l.GetProperty("event").GetString() == "step");
        Assert.Equal(runId, resumed[^1].GetProperty("run_id").GetString());
        Assert.Equal(2, resumed[^1].GetProperty("steps").GetInt32());
    }

    [Fact]
    public void Train_BuiltInWithQlora_Json_ReportsTheQuantizerStage_TensorByTensor()
    {
        var (code, stdout, stderr) = Fta.Run("train", "--method", "qlora", "--max-steps", "1", "--no-eval", "--json", "--runs-dir", _runs);
        Assert.True(code == 0, stderr + stdout);
        var lines = Lines(stdout);
        Assert.Equal(["dataset", "quantizer", "trainer"], lines.Where(l => l.GetProperty("event").GetString() == "stage").Select(l => l.GetProperty("stage").GetString()));
        var tensors = lines.Where(l => l.GetProperty("event").GetString() == "stage_progress" && l.GetProperty("stage").GetString() == "quantizer").ToList();
        Assert.Equal(Enumerable.Range(1, 14), tensors.Select(t => t.GetProperty("done").GetInt32())); // the tiny Qwen3: 2 layers x 7 projections
        Assert.All(tensors, t => Assert.Equal(14, t.GetProperty("total").GetInt32()));
        var quantized = Assert.Single(lines, l => l.GetProperty("event").GetString() == "quantized_base");
        Assert.Equal("nf4-b64-dq", quantized.GetProperty("scheme").GetString());
        Assert.False(quantized.GetProperty("from_cache").GetBoolean());
        Assert.True(File.Exists(quantized.GetProperty("cache_file").GetString()));
        Assert.Equal("qlora", lines[^1].GetProperty("method").GetString());
    }

    [Fact]
    public void Train_BadOption_NamesTheField()
    {
        var (code, _, stderr) = Fta.Run("train", "--lr", "-1", "--batch-size", "0", "--runs-dir", _runs);
        Assert.Equal(1, code);
        Assert.Contains("learning_rate", stderr);
        Assert.Contains("per_device_train_batch_size", stderr);
    }

    [Fact]
    public void Train_BuiltInWithLora_SavesAPeftAdapter()
    {
        var (code, stdout, stderr) = Fta.Run("train", "--method", "lora", "--max-steps", "1", "--json", "--runs-dir", _runs);
        Assert.True(code == 0, stderr + stdout);
        var summary = Lines(stdout)[^1];
        Assert.Equal("lora", summary.GetProperty("method").GetString());
        Assert.True(File.Exists(Path.Combine(summary.GetProperty("output_dir").GetString()!, "adapter_model.safetensors")));
    }
}
