using System.Diagnostics;

namespace FineTuneAgent.Modeling.Tests;

/// <summary>Runs a script of tests/compat with Debian's /usr/bin/python3 (which has torch).</summary>
internal static class CompatPython
{
    public static void Run(string script, params string[] args)
    {
        var path = Path.Combine(ReferenceModel.RepoRoot(), "tests", "compat", script);
        var psi = new ProcessStartInfo("/usr/bin/python3", [path, .. args])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        psi.Environment["OMP_NUM_THREADS"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{script} did not finish in 2 minutes");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{script} failed ({p.ExitCode}): {stderr.Result}");
    }
}
