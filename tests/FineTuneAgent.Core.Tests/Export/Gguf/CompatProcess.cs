using System.Diagnostics;
using FineTuneAgent.Core.Tests.Datasets;

namespace FineTuneAgent.Core.Tests.Export.Gguf;

/// <summary>Runs the independent references of tests/compat: Debian's python3 (with torch) and node-llama-cpp's llama.cpp.</summary>
internal static class CompatProcess
{
    public static string Compat(params string[] parts) => Path.Combine([RealTokenizers.RepoRoot, "tests", "compat", .. parts]);

    /// <summary>Runs a program; returns stdout, or throws with stderr when it fails.</summary>
    public static string Run(string program, IReadOnlyList<string> args, string? stdin = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(program, args)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = stdin is not null,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        psi.Environment["OMP_NUM_THREADS"] = "1";
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        // A guard against a hung child, not a speed requirement.
        if (!p.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} hung");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Result}{stdout.Result}");
        return stdout.Result;
    }

    public static void Python(string script, params string[] args) => Run("/usr/bin/python3", [Compat(script), .. args]);
}
