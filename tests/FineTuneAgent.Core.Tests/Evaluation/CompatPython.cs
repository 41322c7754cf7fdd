using System.Diagnostics;
using FineTuneAgent.Core.Tests.Datasets;

namespace FineTuneAgent.Core.Tests.Evaluation;

/// <summary>Runs a script of tests/compat with Debian's /usr/bin/python3 (the one with torch).</summary>
internal static class CompatPython
{
    public static void Run(string script, params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3", [Path.Combine(RealTokenizers.RepoRoot, "tests", "compat", script), .. args])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        psi.Environment["OMP_NUM_THREADS"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{script} failed ({p.ExitCode}): {stderr.Result}{stdout.Result}");
    }
}
