using System.Diagnostics;
using System.Globalization;

namespace FineTuneAgent.Core.Hardware;

/// <summary>
/// The driver's view of the NVIDIA GPUs through `nvidia-smi --query-gpu` (CSV, no units), used when
/// libtorch cannot see them itself (a CPU-only build) and to name the processes holding GPU memory.
/// </summary>
public static class NvidiaSmi
{
    public const string GpuQuery = "index,uuid,name,memory.total,memory.free,compute_cap";

    /// <summary>Drivers before 510 do not know compute_cap: the same query without it.</summary>
    public const string GpuQueryWithoutComputeCap = "index,uuid,name,memory.total,memory.free";

    public const string AppsQuery = "gpu_uuid,pid,process_name,used_memory";

    /// <summary>One GPU row: its uuid (to match processes) and what it says.</summary>
    public sealed record GpuRow(string Uuid, GpuInfo Gpu);

    /// <summary>A process holding GPU memory.</summary>
    public sealed record ComputeApp(string GpuUuid, int Pid, string ProcessName, long UsedBytes);

    /// <summary>The outcome of running the tool: rows, or why there are none.</summary>
    public sealed record Result(IReadOnlyList<GpuRow> Gpus, IReadOnlyList<ComputeApp> Apps, string? Failure);

    /// <summary>
    /// Runs the tool (found on PATH unless <paramref name="executable"/> is a path). Not installed: no
    /// GPUs and no failure. Installed but failing (typically no driver loaded): no GPUs, with its message.
    /// </summary>
    public static Result Query(string executable, TimeSpan timeout)
    {
        var path = Resolve(executable);
        if (path is null)
            return new Result([], [], null);
        var (code, output, error) = Run(path, ["--query-gpu=" + GpuQuery, "--format=csv,noheader,nounits"], timeout);
        var withComputeCap = true;
        if (code != 0 && (output + error).Contains("compute_cap", StringComparison.Ordinal))
        {
            (code, output, error) = Run(path, ["--query-gpu=" + GpuQueryWithoutComputeCap, "--format=csv,noheader,nounits"], timeout);
            withComputeCap = false;
        }
        if (code != 0)
            return new Result([], [], $"{path} exited with {code}: {FirstLine(output + error)}");
        var gpus = ParseGpus(output, withComputeCap);
        var (appsCode, appsOutput, _) = Run(path, ["--query-compute-apps=" + AppsQuery, "--format=csv,noheader,nounits"], timeout);
        return new Result(gpus, appsCode == 0 ? ParseApps(appsOutput) : [], null);
    }

    /// <summary>Rows of <see cref="GpuQuery"/> (or <see cref="GpuQueryWithoutComputeCap"/>); memory in MiB as the tool prints it.</summary>
    public static IReadOnlyList<GpuRow> ParseGpus(string csv, bool withComputeCap = true)
    {
        var rows = new List<GpuRow>();
        var lineNumber = 0;
        foreach (var line in Lines(csv))
        {
            lineNumber++;
            var f = line.Split(',').Select(s => s.Trim()).ToArray();
            var expected = withComputeCap ? 6 : 5;
            // A GPU name may itself hold a comma: the fields around it are fixed, so join the middle.
            if (f.Length > expected)
                f = [f[0], f[1], string.Join(", ", f[2..(f.Length - expected + 3)]), .. f[(f.Length - expected + 3)..]];
            if (f.Length != expected)
                throw new FormatException($"nvidia-smi output line {lineNumber}: expected {expected} fields ({(withComputeCap ? GpuQuery : GpuQueryWithoutComputeCap)}), got {f.Length}: \"{line}\"");
            int major = 0, minor = 0;
            if (withComputeCap && !TryComputeCapability(f[5], out major, out minor))
                throw new FormatException($"nvidia-smi output line {lineNumber}: compute_cap \"{f[5]}\" is not MAJOR.MINOR");
            rows.Add(new GpuRow(f[1], new GpuInfo
            {
                Index = ParseInt(f[0], "index", lineNumber),
                Name = f[2],
                TotalMemoryBytes = ParseMib(f[3], "memory.total", lineNumber),
                FreeMemoryBytes = ParseMib(f[4], "memory.free", lineNumber),
                ComputeMajor = major,
                ComputeMinor = minor,
                Source = "nvidia-smi",
                UsableByTorch = false,
            }));
        }
        return rows;
    }

    /// <summary>Rows of <see cref="AppsQuery"/>; lines the tool marks unavailable ("[N/A]", "[Not Supported]") are skipped.</summary>
    public static IReadOnlyList<ComputeApp> ParseApps(string csv)
    {
        var apps = new List<ComputeApp>();
        foreach (var line in Lines(csv))
        {
            var f = line.Split(',').Select(s => s.Trim()).ToArray();
            if (f.Length < 4 || !int.TryParse(f[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid)
                || !long.TryParse(f[^1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var mib))
                continue;
            apps.Add(new ComputeApp(f[0], pid, string.Join(", ", f[2..^1]), mib * 1024 * 1024));
        }
        return apps;
    }

    private static bool TryComputeCapability(string text, out int major, out int minor)
    {
        major = minor = 0;
        var parts = text.Split('.');
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out major)
            && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out minor);
    }

    private static int ParseInt(string text, string field, int line) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new FormatException($"nvidia-smi output line {line}: {field} \"{text}\" is not a number");

    private static long ParseMib(string text, string field, int line) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var mib)
            ? mib * 1024 * 1024
            : throw new FormatException($"nvidia-smi output line {line}: {field} \"{text}\" is not a whole number of MiB");

    private static IEnumerable<string> Lines(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0);

    private static string FirstLine(string text) => Lines(text).FirstOrDefault() ?? "(no output)";

    private static string? Resolve(string executable)
    {
        if (executable.Contains('/'))
            return File.Exists(executable) ? executable : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, executable);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    private static (int Code, string Output, string Error) Run(string path, string[] arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments)
            start.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                return (-1, "", $"no answer within {timeout.TotalSeconds:F0} s (a hung driver?)");
            }
            return (process.ExitCode, output.Result, error.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, "", e.Message);
        }
    }
}
