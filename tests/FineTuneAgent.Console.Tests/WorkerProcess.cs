using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace FineTuneAgent.Console.Tests;

/// <summary>
/// One `fta worker` process of a data-parallel test: its JSON event lines arrive as they are printed (so a test
/// can act on an event while the run goes on), stderr is kept, and disposing kills it if it is still running,
/// so a failed test never leaves a worker behind. Each worker runs one intra-op thread: two cores, two workers.
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<JsonElement> _events = new();
    private readonly List<JsonElement> _seen = new();
    private readonly StringBuilder _stderr = new();
    private readonly StringBuilder _stdout = new();

    private WorkerProcess(Process process) => _process = process;

    private static string DllPath => typeof(Fta).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "FtaDll").Value!;

    public static WorkerProcess Start(int port, int rank, int world, string runConfig, string runsDir, TimeSpan timeout, string? resume = null,
        int threads = 1, IReadOnlyList<string>? extraArgs = null)
    {
        var args = new List<string>
        {
            DllPath, "worker", "--store", $"127.0.0.1:{port}", "--rank", rank.ToString(CultureInfo.InvariantCulture),
            "--world", world.ToString(CultureInfo.InvariantCulture), "--run-config", runConfig, "--runs-dir", runsDir, "--json",
            "--timeout", timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture),
        };
        if (resume is not null)
            args.AddRange(["--resume", resume]);
        args.AddRange(extraArgs ?? []);
        var psi = new ProcessStartInfo("dotnet", args) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["FTA_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        var process = new Process { StartInfo = psi };
        var worker = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) => worker.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
                lock (worker._stderr)
                    worker._stderr.Append(line).Append('\n');
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    public static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public int ExitCode => _process.ExitCode;

    public int Id => _process.Id;

    /// <summary>Every event line printed so far (the summary last, once it exits 0).</summary>
    public IReadOnlyList<JsonElement> Events
    {
        get
        {
            lock (_seen)
                return _seen.ToList();
        }
    }

    public IReadOnlyList<JsonElement> EventsNamed(string name) => Events.Where(e => e.GetProperty("event").GetString() == name).ToList();

    public string Stderr
    {
        get
        {
            lock (_stderr)
                return _stderr.ToString();
        }
    }

    /// <summary>Blocks until an event matching <paramref name="match"/> is printed; throws if the worker exits first or the limit passes.</summary>
    public JsonElement WaitFor(Func<JsonElement, bool> match, TimeSpan limit)
    {
        using var cts = new CancellationTokenSource(limit);
        try
        {
            foreach (var e in _events.GetConsumingEnumerable(cts.Token))
                if (match(e))
                    return e;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no such event within {limit.TotalSeconds} s\n{Describe()}");
        }
        throw new InvalidOperationException($"the worker ended before the event\n{Describe()}");
    }

    /// <summary>Waits for the exit (killing the worker past the limit) and returns the exit code.</summary>
    public int WaitForExit(TimeSpan limit)
    {
        if (!_process.WaitForExit(limit))
        {
            Kill();
            throw new TimeoutException($"the worker was still running after {limit.TotalSeconds} s and was killed\n{Describe()}");
        }
        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    /// <summary>SIGKILL, as a crashed machine or an OOM killer would end it.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }
    }

    public string Describe()
    {
        string stdout;
        lock (_stdout)
            stdout = _stdout.ToString();
        var state = _process.HasExited ? $"exit code {_process.ExitCode}" : "running";
        return $"worker ({state})\n--- stdout ---\n{stdout}--- stderr ---\n{Stderr}";
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            _events.CompleteAdding();
            return;
        }
        lock (_stdout)
            _stdout.Append(line).Append('\n');
        JsonElement e;
        try
        {
            e = JsonDocument.Parse(line).RootElement.Clone();
        }
        catch (JsonException)
        {
            return; // not an event line
        }
        lock (_seen)
            _seen.Add(e);
        _events.Add(e);
    }
}
