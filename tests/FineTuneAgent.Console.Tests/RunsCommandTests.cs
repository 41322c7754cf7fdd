using System.Text.Json;

namespace FineTuneAgent.Console.Tests;

/// <summary>`fta runs` over real runs: two `fta train --max-steps 3` runs (full and LoRA) on the built-in tiny Qwen3.</summary>
public sealed class RunsCommandTests : IClassFixture<RunsCommandTests.TwoRuns>
{
    private readonly TwoRuns _runs;

    public RunsCommandTests(TwoRuns runs) => _runs = runs;

    /// <summary>Trains both runs once for all tests of the class; a copy of the runs folder per test keeps them independent.</summary>
    public sealed class TwoRuns : IDisposable
    {
        public string Folder { get; } = Directory.CreateTempSubdirectory("fta-runs-cli-").FullName;

        public string Full { get; }

        public string Lora { get; }

        public TwoRuns()
        {
            Full = Train("--method", "full");
            Lora = Train("--method", "lora", "--lr", "1e-3");
        }

        private string Train(params string[] args)
        {
            var (code, stdout, stderr) = Fta.Run(["train", "--max-steps", "3", "--json", "--runs-dir", Folder, .. args]);
            Assert.True(code == 0, stderr + stdout);
            var last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
            return JsonDocument.Parse(last).RootElement.GetProperty("run_id").GetString()!;
        }

        /// <summary>A fresh copy of the run folders (no history.db yet) for one test.</summary>
        public string Copy()
        {
            var copy = Directory.CreateTempSubdirectory("fta-runs-cli-copy-").FullName;
            foreach (var id in new[] { Full, Lora })
            {
                foreach (var file in new[] { "run.json", "metrics.jsonl" })
                {
                    Directory.CreateDirectory(Path.Combine(copy, id));
                    File.Copy(Path.Combine(Folder, id, file), Path.Combine(copy, id, file));
                }
            }
            return copy;
        }

        public void Dispose() => Directory.Delete(Folder, recursive: true);
    }

    private static JsonElement Json(string stdout) => JsonDocument.Parse(stdout).RootElement.Clone();

    private static (int, string, string) Runs(string runsDir, params string[] args) => Fta.Run(["runs", .. args, "--runs-dir", runsDir]);

    [Fact]
    public void List_ImportsTheJsonRuns_AndFilters()
    {
        var dir = _runs.Copy();
        try
        {
            var (code, stdout, stderr) = Runs(dir, "list", "--json");
            Assert.True(code == 0, stderr);
            var listed = Json(stdout).GetProperty("runs").EnumerateArray().ToList();
            Assert.Equal([_runs.Lora, _runs.Full], listed.Select(r => r.GetProperty("id").GetString()));
            Assert.All(listed, r => Assert.Equal("completed", r.GetProperty("status").GetString()));
            Assert.All(listed, r => Assert.Equal(3, r.GetProperty("stats").GetProperty("steps").GetInt32()));
            Assert.True(File.Exists(Path.Combine(dir, "history.db")));

            var (_, lora, _) = Runs(dir, "list", "--method", "lora", "--json");
            Assert.Equal([_runs.Lora], Json(lora).GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString()));
            var (_, failed, _) = Runs(dir, "list", "--status", "failed", "--json");
            Assert.Empty(Json(failed).GetProperty("runs").EnumerateArray());

            var (badCode, _, badErr) = Runs(dir, "list", "--status", "finished");
            Assert.Equal(1, badCode);
            Assert.Contains("--status finished: expected one of running, completed, failed, cancelled", badErr);

            var (tableCode, table, _) = Runs(dir, "list");
            Assert.Equal(0, tableCode);
            Assert.Contains(_runs.Full, table);
            Assert.Contains("qwen3-tiny-seed0", table);
            Assert.Contains("2 runs in " + Path.Combine(dir, "history.db"), table);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Show_PrintsTheRun_WithItsLossCurve()
    {
        var dir = _runs.Copy();
        try
        {
            var (code, stdout, stderr) = Runs(dir, "show", _runs.Full[..18], "--json"); // a unique prefix
            Assert.True(code == 0, stderr);
            var run = Json(stdout);
            Assert.Equal(_runs.Full, run.GetProperty("id").GetString());
            Assert.Equal("full", run.GetProperty("method").GetString());
            Assert.Equal([1, 2, 3], run.GetProperty("metrics").EnumerateArray().Where(m => m.GetProperty("kind").GetString() == "train").Select(m => m.GetProperty("step").GetInt32()));
            Assert.Contains(run.GetProperty("metrics").EnumerateArray(), m => m.GetProperty("kind").GetString() == "eval");
            Assert.Equal(0.005, run.GetProperty("config").GetProperty("training").GetProperty("learning_rate").GetDouble());
            Assert.Contains(run.GetProperty("artefacts").EnumerateArray(), a => a.GetProperty("kind").GetString() == "checkpoint" && a.GetProperty("bytes").GetInt64() > 0);

            var (textCode, text, _) = Runs(dir, "show", _runs.Full);
            Assert.Equal(0, textCode);
            Assert.Contains("train loss", text);
            Assert.Contains("eval loss", text);
            Assert.Contains(text, c => c is > '\u2800' and <= '\u28FF'); // the braille curve
            Assert.Contains('◆', text);
            Assert.Contains("training.learning_rate", text);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Compare_OverlaysBothRuns_AndDiffsTheirConfigs()
    {
        var dir = _runs.Copy();
        try
        {
            var (code, stdout, stderr) = Runs(dir, "compare", _runs.Full, _runs.Lora, "--json");
            Assert.True(code == 0, stderr);
            var c = Json(stdout);
            Assert.Equal(_runs.Full, c.GetProperty("a").GetProperty("id").GetString());
            Assert.Equal(3, c.GetProperty("b").GetProperty("metrics").EnumerateArray().Count(m => m.GetProperty("kind").GetString() == "train"));
            var diffs = c.GetProperty("config_differences").EnumerateArray().ToDictionary(d => d.GetProperty("key").GetString()!, d => (d.GetProperty("a").GetString(), d.GetProperty("b").GetString()));
            Assert.Equal(("\"full\"", "\"lora\""), diffs["method"]);
            Assert.Equal(("0.005", "0.001"), diffs["training.learning_rate"]);
            Assert.DoesNotContain("training.max_steps", diffs.Keys);

            var (textCode, text, _) = Runs(dir, "compare", _runs.Full, _runs.Lora);
            Assert.Equal(0, textCode);
            Assert.Contains("A train", text);
            Assert.Contains("B train", text);
            Assert.Contains("Configuration differences", text);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Delete_RemovesTheRunFromTheHistory_ForGood_AndKeepsItsFiles()
    {
        var dir = _runs.Copy();
        try
        {
            var (code, stdout, stderr) = Runs(dir, "delete", _runs.Lora, "--json");
            Assert.True(code == 0, stderr);
            Assert.Equal(_runs.Lora, Json(stdout).GetProperty("deleted").GetString());
            Assert.True(File.Exists(Path.Combine(dir, _runs.Lora, "run.json")));

            // The next call imports the folders again and must not bring the run back.
            var (_, list, _) = Runs(dir, "list", "--json");
            Assert.Equal([_runs.Full], Json(list).GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString()));
            var (showCode, _, showErr) = Runs(dir, "show", _runs.Lora);
            Assert.Equal(1, showCode);
            Assert.Contains($"no run '{_runs.Lora}'", showErr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Train_RecordsItsRunInTheHistoryAsItGoes_WithHashesAndHardware()
    {
        // The training folder itself: `fta train` wrote history.db there; run.json carries no hashes or hardware,
        // so these can only have come from the run's own writes, not from the import `fta runs` does.
        Assert.True(File.Exists(Path.Combine(_runs.Folder, "history.db")));
        var (code, stdout, stderr) = Runs(_runs.Folder, "show", _runs.Lora, "--json");
        Assert.True(code == 0, stderr);
        var run = Json(stdout);
        Assert.Equal("completed", run.GetProperty("status").GetString());
        Assert.Matches("^[0-9a-f]{64}$", run.GetProperty("model_hash").GetString());
        Assert.Matches("^[0-9a-f]{64}$", run.GetProperty("dataset_hash").GetString());
        Assert.Equal(Environment.ProcessorCount, run.GetProperty("hardware").GetProperty("cpu").GetProperty("logical_cores").GetInt32());
        Assert.Equal(3, run.GetProperty("stats").GetProperty("steps").GetInt32());
        Assert.Equal(3, run.GetProperty("metrics").EnumerateArray().Count(m => m.GetProperty("kind").GetString() == "train"));
        // Both runs trained the same built-in model on the same bundled data.
        var (_, full, _) = Runs(_runs.Folder, "show", _runs.Full, "--json");
        Assert.Equal(run.GetProperty("model_hash").GetString(), Json(full).GetProperty("model_hash").GetString());
        Assert.Equal(run.GetProperty("dataset_hash").GetString(), Json(full).GetProperty("dataset_hash").GetString());
    }

    [Fact]
    public void DamagedHistory_IsReportedWithItsPath_AndLeftAsItWas()
    {
        var dir = _runs.Copy();
        try
        {
            var db = Path.Combine(dir, "elsewhere.db");
            var garbage = new byte[10_000];
            new Random(1).NextBytes(garbage);
            File.WriteAllBytes(db, garbage);
            var (code, _, stderr) = Runs(dir, "list", "--db", db);
            Assert.Equal(1, code);
            Assert.Contains($"fta: error: {db}: the history database is damaged", stderr);
            Assert.Equal(garbage, File.ReadAllBytes(db));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
