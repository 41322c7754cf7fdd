using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace FineTuneAgent.Torch.Tests.Distributed;

/// <summary>
/// The second process of a two-process test: FineTuneAgent.Torch.Tests.DistWorker, started with
/// `dotnet` from DistWorker/ beside the tests (the test project copies it there). Output is
/// collected as it arrives; disposing kills the process tree if it is still running, so a failed
/// test never leaves a worker behind.
/// </summary>
internal sealed partial class DistWorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private DistWorkerProcess(Process process)
    {
        _process = process;
    }

    internal static string WorkerDll => Path.Combine(AppContext.BaseDirectory, "DistWorker", "FineTuneAgent.Torch.Tests.DistWorker.dll");

    /// <summary>Completes when the process has exited.</summary>
    internal Task Exited { get; private set; } = Task.CompletedTask;

    internal bool HasExited => _process.HasExited;

    internal int ExitCode => _process.ExitCode;

    internal static DistWorkerProcess Start(string scenario, int port, TimeSpan groupTimeout)
    {
        if (!File.Exists(WorkerDll))
            throw new FileNotFoundException($"The distributed test worker is missing at {WorkerDll}; build FineTuneAgent.Torch.Tests, which copies it there.");
        var info = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(WorkerDll);
        info.ArgumentList.Add(scenario);
        info.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        info.ArgumentList.Add(((long)groupTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
        // Two cores shared with others: one intra-op thread is plenty for these tensors.
        info.Environment["FTA_NUM_THREADS"] = "1";
        var process = new Process { StartInfo = info };
        var worker = new DistWorkerProcess(process);
        process.OutputDataReceived += (_, e) => worker.Append(worker._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => worker.Append(worker._stderr, e.Data);
        process.Start();
        worker.Exited = process.WaitForExitAsync();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Waits for the worker to exit and returns its exit code; kills it and throws past limit.</summary>
    internal int WaitForExit(TimeSpan limit)
    {
        if (!_process.WaitForExit(limit))
        {
            Kill();
            throw new TimeoutException($"the distributed worker was still running after {limit.TotalSeconds} s and was killed.\n{Describe()}");
        }
        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    internal string Stdout
    {
        get
        {
            lock (_stdout)
                return _stdout.ToString();
        }
    }

    /// <summary>The `name=v0 v1 ...` lines the worker printed.</summary>
    internal Dictionary<string, double[]> Results()
    {
        var results = new Dictionary<string, double[]>();
        foreach (var line in Stdout.Split('\n'))
        {
            var m = ResultLine().Match(line.TrimEnd('\r'));
            if (m.Success)
                results[m.Groups[1].Value] = m.Groups[2].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                    .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        }
        return results;
    }

    internal string Describe()
    {
        string stderr;
        lock (_stderr)
            stderr = _stderr.ToString();
        var state = _process.HasExited ? $"exit code {_process.ExitCode}" : "running";
        return $"worker ({state})\n--- stdout ---\n{Stdout}--- stderr ---\n{stderr}";
    }

    internal void Kill()
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

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Append(StringBuilder target, string? line)
    {
        if (line is null)
            return;
        lock (target)
            target.Append(line).Append('\n');
    }

    /// <summary>The dotnet host running these tests (the CLI passes it to children), else the one on PATH.</summary>
    private static string DotnetHost()
    {
        var fromCli = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromCli) && File.Exists(fromCli))
            return fromCli;
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
            return self;
        return "dotnet";
    }

    [GeneratedRegex(@"^(\w+)=(.*)$")]
    private static partial Regex ResultLine();
}
