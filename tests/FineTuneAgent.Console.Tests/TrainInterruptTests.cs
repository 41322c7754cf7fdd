using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using FineTuneAgent.Torch;

namespace FineTuneAgent.Console.Tests;

/// <summary>
/// Ctrl+C on `fta train`, as a terminal sends it (SIGINT to the process): the run stops after the step it is in,
/// saves a complete checkpoint of that step, exits with 130, is recorded as cancelled, and
/// `fta train --resume RUN_ID` finishes it.
/// </summary>
public sealed class TrainInterruptTests : IDisposable
{
    private const int MaxSteps = 12;
    private readonly string _runs = Path.Combine(Path.GetTempPath(), $"fta-train-int-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_runs))
            Directory.Delete(_runs, recursive: true);
    }

    /// <summary>Sends SIGINT, as Ctrl+C in a terminal does.</summary>
    private static void Interrupt(int pid)
    {
        using var kill = Process.Start("kill", ["-INT", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private static string DllPath => typeof(Fta).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "FtaDll").Value!;

    private static string Event(JsonElement e) => e.GetProperty("event").GetString()!;

    [Fact]
    public async Task SigInt_AfterTheFirstStep_SavesThatStepsCheckpoint_Exits130_RecordsCancelled_AndResumeFinishes()
    {
        // LoRA on the built-in model, no periodic checkpoints: the only checkpoint before the end is the one Ctrl+C makes.
        var psi = new ProcessStartInfo("dotnet", [DllPath, "train", "--method", "lora", "--max-steps", MaxSteps.ToString(), "--save-steps", "1000", "--json", "--runs-dir", _runs])
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

        var events = new List<JsonElement>();
        var interrupted = false;
        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3))) // only so a bug cannot hang the test
        {
            try
            {
                foreach (var line in lines.GetConsumingEnumerable(timeout.Token))
                {
                    var e = JsonDocument.Parse(line).RootElement.Clone();
                    events.Add(e);
                    if (Event(e) == "step" && !interrupted)
                    {
                        interrupted = true;
                        Interrupt(p.Id);
                    }
                }
                p.WaitForExit();
            }
            finally
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit();
                }
            }
        }
        var errors = await stderr;
        var seen = string.Join('\n', events.Select(e => e.GetRawText()));
        Assert.True(interrupted, $"no step event before fta exited ({p.ExitCode}):\n{seen}\n{errors}");
        Assert.True(p.ExitCode == 130, $"exit code {p.ExitCode}:\n{seen}\n{errors}");
        Assert.DoesNotContain(events, e => Event(e) == "summary");
        Assert.Contains("training cancelled", errors);

        // The last step it logged is the step it saved, and that checkpoint is complete.
        var lastStep = events.Where(e => Event(e) == "step").Max(e => e.GetProperty("step").GetInt32());
        Assert.True(lastStep < MaxSteps, $"the run finished all {MaxSteps} steps before the interrupt took effect");
        var saved = Assert.Single(events, e => Event(e) == "checkpoint");
        Assert.Equal(lastStep, saved.GetProperty("step").GetInt32());
        var checkpoint = saved.GetProperty("path").GetString()!;
        Assert.Equal($"checkpoint-{lastStep}", Path.GetFileName(checkpoint));
        using (var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(checkpoint, "trainer_state.json"))))
            Assert.Equal(lastStep, state.RootElement.GetProperty("global_step").GetInt32());
        var weights = Directory.GetFiles(checkpoint, "*.safetensors").Select(Path.GetFileName).ToList();
        Assert.Contains("adapter_model.safetensors", weights);
        Assert.Contains("optimizer.safetensors", weights);
        foreach (var file in Directory.GetFiles(checkpoint, "*.safetensors"))
        {
            var tensors = Safetensors.Load(file);
            Assert.NotEmpty(tensors);
            foreach (var t in tensors.Values)
                t.Dispose();
        }
        Assert.True(File.Exists(Path.Combine(checkpoint, "run_config.json")));

        var runId = Path.GetFileName(Directory.GetDirectories(_runs).Single(d => File.Exists(Path.Combine(d, "run.json"))));
        using (var record = JsonDocument.Parse(File.ReadAllText(Path.Combine(_runs, runId, "run.json"))))
            Assert.Equal("cancelled", record.RootElement.GetProperty("status").GetString());
        Assert.Contains($"fta train --resume {runId}", errors);

        // --resume continues from that checkpoint to the end.
        var (code, stdout, err) = Fta.Run("train", "--resume", runId, "--json", "--runs-dir", _runs);
        Assert.True(code == 0, err + stdout);
        var resumed = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.Contains(resumed, l => Event(l) == "message" && l.GetProperty("text").GetString()!.EndsWith($"resuming from {checkpoint}", StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(lastStep + 1, MaxSteps - lastStep), resumed.Where(l => Event(l) == "step").Select(l => l.GetProperty("step").GetInt32()));
        Assert.Equal("summary", Event(resumed[^1]));
        Assert.Equal(MaxSteps, resumed[^1].GetProperty("steps").GetInt32());
        using (var record = JsonDocument.Parse(File.ReadAllText(Path.Combine(_runs, runId, "run.json"))))
            Assert.Equal("completed", record.RootElement.GetProperty("status").GetString());
    }
}
