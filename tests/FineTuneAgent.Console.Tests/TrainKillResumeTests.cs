using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using FineTuneAgent.Torch;

namespace FineTuneAgent.Console.Tests;

/// <summary>
/// `fta train` killed with SIGKILL right after its first checkpoint: every checkpoint folder left
/// behind is complete (the half-written one, if any, is a hidden temporary folder), and
/// `fta train --resume RUN_ID` finishes the run.
/// </summary>
public sealed class TrainKillResumeTests : IDisposable
{
    private const int MaxSteps = 12;
    private readonly string _runs = Path.Combine(Path.GetTempPath(), $"fta-train-kill-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_runs))
            Directory.Delete(_runs, recursive: true);
    }

    private static string DllPath => typeof(Fta).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "FtaDll").Value!;

    private static List<JsonElement> Lines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    private static string Event(JsonElement e) => e.GetProperty("event").GetString()!;

    [Fact]
    public async Task SigKill_AfterACheckpoint_LeavesOnlyCompleteCheckpoints_AndResumeFinishes()
    {
        // Full fine-tuning of the built-in model, a checkpoint (weights + AdamW state, ~120 MB) every 2 steps.
        var psi = new ProcessStartInfo("dotnet", [DllPath, "train", "--save-steps", "2", "--max-steps", MaxSteps.ToString(), "--json", "--runs-dir", _runs])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var lines = new BlockingCollection<string>();
        using var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
                lines.Add(line);
            else
                lines.CompleteAdding();
        };
        p.BeginOutputReadLine();
        var stderr = p.StandardError.ReadToEndAsync();

        string? runId = null;
        JsonElement? checkpoint = null;
        var seen = new List<string>();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3)))
        {
            try
            {
                foreach (var line in lines.GetConsumingEnumerable(timeout.Token))
                {
                    seen.Add(line);
                    var e = JsonDocument.Parse(line).RootElement.Clone();
                    if (Event(e) == "message" && e.GetProperty("text").GetString() is { } text && text.StartsWith("run ", StringComparison.Ordinal))
                        runId = text["run ".Length..].Split(':')[0];
                    if (Event(e) == "checkpoint")
                    {
                        checkpoint = e;
                        p.Kill(); // SIGKILL on Unix
                        break;
                    }
                }
            }
            finally
            {
                if (!p.HasExited)
                    p.Kill(entireProcessTree: true);
                p.WaitForExit();
            }
        }
        var errors = await stderr;
        Assert.True(checkpoint is not null, $"no checkpoint event before fta exited ({p.ExitCode}):\n{string.Join('\n', seen)}\n{errors}");
        Assert.NotNull(runId);
        Assert.NotEqual(0, p.ExitCode); // killed, not finished
        Assert.DoesNotContain(seen, l => l.Contains("\"summary\"", StringComparison.Ordinal));

        // Every checkpoint-* folder is complete: its trainer state parses and every safetensors file loads.
        var output = Path.GetDirectoryName(checkpoint.Value.GetProperty("path").GetString()!)!;
        var folders = Directory.GetDirectories(output, "checkpoint-*");
        Assert.NotEmpty(folders);
        var lastStep = 0;
        foreach (var folder in folders)
        {
            using var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "trainer_state.json")));
            var step = state.RootElement.GetProperty("global_step").GetInt32();
            Assert.Equal($"checkpoint-{step}", Path.GetFileName(folder));
            lastStep = Math.Max(lastStep, step);
            var weights = Directory.GetFiles(folder, "*.safetensors");
            Assert.Contains(weights, w => Path.GetFileName(w) == "model.safetensors");
            Assert.Contains(weights, w => Path.GetFileName(w) == "optimizer.safetensors");
            foreach (var file in weights)
            {
                var tensors = Safetensors.Load(file);
                Assert.NotEmpty(tensors);
                foreach (var t in tensors.Values)
                    t.Dispose();
            }
        }

        // --resume by run id continues from the last complete checkpoint to step 12.
        var (code, stdout, err) = Fta.Run("train", "--resume", runId!, "--json", "--runs-dir", _runs);
        Assert.True(code == 0, err + stdout);
        var resumed = Lines(stdout);
        Assert.Contains(resumed, l => Event(l) == "message" && l.GetProperty("text").GetString()!.Contains($"resuming from {Path.Combine(output, $"checkpoint-{lastStep}")}"));
        var steps = resumed.Where(l => Event(l) == "step").Select(l => l.GetProperty("step").GetInt32()).ToList();
        Assert.Equal(Enumerable.Range(lastStep + 1, MaxSteps - lastStep), steps);
        var summary = resumed[^1];
        Assert.Equal("summary", Event(summary));
        Assert.Equal(runId, summary.GetProperty("run_id").GetString());
        Assert.Equal(MaxSteps, summary.GetProperty("steps").GetInt32());
        Assert.True(File.Exists(Path.Combine(output, $"checkpoint-{MaxSteps}", "trainer_state.json")));
        using var record = JsonDocument.Parse(File.ReadAllText(Path.Combine(_runs, runId!, "run.json")));
        Assert.Equal("completed", record.RootElement.GetProperty("status").GetString());
    }
}
