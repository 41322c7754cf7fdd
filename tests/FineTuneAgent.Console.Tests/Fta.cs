using System.Diagnostics;
using System.Reflection;

namespace FineTuneAgent.Console.Tests;

/// <summary>Runs the real `fta` executable (dotnet fta.dll) and captures what a user would see.</summary>
internal static class Fta
{
    private static string DllPath => typeof(Fta).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "FtaDll").Value!;

    public static (int exitCode, string stdout, string stderr) Run(params string[] args) => RunWith(new Dictionary<string, string>(), args);

    /// <summary>Runs fta with extra environment variables (FTA_PLUGINS_DIR, …).</summary>
    public static (int exitCode, string stdout, string stderr) RunWith(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet", [DllPath, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment)
            psi.Environment[name] = value;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"fta {string.Join(' ', args)} did not finish in 3 minutes");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
