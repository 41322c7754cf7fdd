using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace FineTuneAgent.Bench;

/// <summary>
/// One long-lived torch_driver process in --serve mode: a command per line in, a JSON object per
/// line out, timed inside the driver, so pipes and process start-up are never measured and rounds
/// can alternate with the binding's without reloading libtorch.
/// </summary>
internal sealed class NativeDriver : IDisposable
{
    private readonly Process _process;

    private NativeDriver(Process process) => _process = process;

    /// <summary>The driver the build copied beside this assembly.</summary>
    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "torch_driver");

    public static NativeDriver Start(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"torch_driver not found at {path}. `dotnet build bench/FineTuneAgent.Bench -c Release` builds it " +
                "(needs cmake, g++ and libtorch-dev: scripts/setup.sh), or pass --driver PATH.", path);
        var info = new ProcessStartInfo(path, "--serve")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {path}");
        process.StandardInput.AutoFlush = true;
        return new NativeDriver(process);
    }

    /// <summary>Sets libtorch's intra-op threads in the driver; returns (threads read back, libtorch version).</summary>
    public (int Threads, string Libtorch) SetThreads(int threads)
    {
        var reply = Send($"threads {threads}");
        return (reply.GetProperty("threads").GetInt32(), reply.GetProperty("torch_version").GetString() ?? "?");
    }

    public double Matmul(int n, int calls) => Seconds($"matmul {n} {calls}");

    public double Add(int calls) => Seconds($"add {calls}");

    public double GetNumThreads(int calls) => Seconds($"get_num_threads {calls}");

    private double Seconds(string command) => Send(command).GetProperty("seconds").GetDouble();

    private JsonElement Send(string command)
    {
        _process.StandardInput.WriteLine(command);
        var line = _process.StandardOutput.ReadLine()
            ?? throw new InvalidOperationException($"torch_driver exited (code {ExitCode()}) while running '{command}'");
        using var doc = JsonDocument.Parse(line);
        if (doc.RootElement.TryGetProperty("error", out var error))
            throw new InvalidOperationException($"torch_driver failed on '{command}': {error.GetString()}");
        return doc.RootElement.Clone();
    }

    private string ExitCode() =>
        _process.WaitForExit(1000) ? _process.ExitCode.ToString(CultureInfo.InvariantCulture) : "still running";

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.WriteLine("quit");
                if (!_process.WaitForExit(5000))
                    _process.Kill();
            }
        }
        catch (IOException)
        {
            // The driver already closed its end; nothing left to stop.
        }
        _process.Dispose();
    }
}
