using System.Diagnostics;
using System.Reflection;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Core.Tests.History;

/// <summary>A process killed (SIGKILL) while it writes leaves an intact history holding every run it had committed.</summary>
public sealed class HistoryKillTests : IDisposable
{
    private const int MetricsPerRun = 400;
    private readonly HistoryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static string WorkerDll => typeof(HistoryKillTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "HistoryWorkerDll").Value!;

    [Fact]
    public async Task KilledMidWrite_ReopensIntact_WithEveryCommittedRun()
    {
        var committed = new List<string>();
        using (var worker = Process.Start(new ProcessStartInfo("dotnet", [WorkerDll, _folder.Database, MetricsPerRun.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!)
        {
            var stderr = worker.StandardError.ReadToEndAsync();
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (committed.Count < 12 && DateTime.UtcNow < deadline && worker.StandardOutput.ReadLine() is { } line)
                committed.Add(line["committed ".Length..]);
            if (committed.Count < 12)
                Assert.Fail($"the worker committed {committed.Count} runs; stderr: {(worker.HasExited ? await stderr : "(still running)")}");
            // The worker is between or inside transactions now; SIGKILL gives it no chance to finish either.
            await Task.Delay(Random.Shared.Next(0, 30));
            worker.Kill(); // SIGKILL on Linux
            await worker.WaitForExitAsync();
            // Lines printed after the ones read are committed too.
            committed.AddRange((await worker.StandardOutput.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l["committed ".Length..]));
        }

        Assert.Equal("ok", HistoryFolder.IntegrityCheck(_folder.Database));
        var store = HistoryStore.Open(_folder.Database);
        using var reader = store.OpenReader();
        var runs = reader.ListRuns().ToDictionary(r => r.Id);
        foreach (var id in committed)
        {
            Assert.True(runs.TryGetValue(id, out var run), $"committed {id} is missing");
            Assert.Equal(RunStatus.Completed, run!.Status);
            Assert.Equal(Enumerable.Range(1, MetricsPerRun), reader.Metrics(id).Select(m => m.Step));
        }
        // The run being written when killed has either all of a batch or none of it.
        foreach (var id in runs.Keys.Except(committed))
            Assert.Contains(reader.Metrics(id).Count, new[] { 0, MetricsPerRun });
    }
}
