using System.Diagnostics;
using System.Text.Json.Nodes;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// What the `fta bench` commands share: running one measurement in a child process (so its
/// memory is its own), warming libtorch up before a baseline, and reading /proc/self/status.
/// </summary>
internal static class BenchProcess
{
    /// <summary>Runs `fta &lt;arguments&gt;` in a child process and returns the JSON object it prints last.</summary>
    internal static JsonObject RunChildProcess(string[] arguments, string label, bool echoStderr = false)
    {
        // glibc otherwise keeps freed blocks of up to 32 MiB in its heap (the mmap threshold grows
        // with every free), so resident memory would count weights a method already released.
        using var child = StartSelf(arguments, new Dictionary<string, string> { ["MALLOC_MMAP_THRESHOLD_"] = "131072" });
        var stderr = child.StandardError.ReadToEndAsync();
        var stdout = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0)
            throw new InvalidOperationException($"the {label} run failed ({child.ExitCode}): {stderr.Result}");
        if (echoStderr)
            System.Console.Error.Write(stderr.Result);
        return JsonNode.Parse(stdout.Trim().Split('\n')[^1])!.AsObject();
    }

    /// <summary>Starts `fta &lt;arguments&gt;` as this process was started (the apphost, or `dotnet fta.dll`), output redirected.</summary>
    internal static Process StartSelf(string[] arguments, IReadOnlyDictionary<string, string> environment)
    {
        var self = Environment.ProcessPath!;
        var prefix = Path.GetFileNameWithoutExtension(self) == "dotnet" ? new[] { typeof(BenchProcess).Assembly.Location } : [];
        var psi = new ProcessStartInfo(self, [.. prefix, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment)
            psi.Environment[name] = value;
        return Process.Start(psi)!;
    }

    /// <summary>
    /// libtorch's first ops set up BLAS buffers, thread pools and the autograd engine; done before
    /// a baseline so it is not charged to what is measured.
    /// </summary>
    internal static void WarmUp()
    {
        using (NewDisposeScope())
        {
            var a = randn([256, 256], requires_grad: true);
            a.mm(a).sum().backward();
        }
        // Blocks the warm-up freed would otherwise stay kept by the caching allocator and count in the baseline.
        cpu.allocator.empty_cache();
    }

    /// <summary>Restarts the kernel's peak-RSS counter (VmHWM) at the current RSS.</summary>
    internal static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    /// <summary>A field of /proc/self/status in bytes (VmRSS now, VmHWM the peak).</summary>
    internal static double ProcStatus(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return double.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        throw new InvalidOperationException($"/proc/self/status has no {field}");
    }
}
