using System.Diagnostics;
using FineTuneAgent.Agent.Daemon;
using FineTuneAgent.Core;

namespace FineTuneAgent.Console.Tui;

/// <summary>
/// How the console reaches an agent: the one named (--agent/FTA_AGENT_URL), else the one serving the runs folder,
/// else one it starts: `fta agent --port 0` in its own session (setsid), its output in &lt;runs&gt;/agent.log, so
/// runs keep going when the console quits or its terminal closes.
/// </summary>
internal static class AgentLink
{
    private static readonly TimeSpan s_startPatience = TimeSpan.FromSeconds(60);

    public static (AgentClient Client, string How) Connect(string? url, string? token, string runsFolder)
    {
        if (AgentClient.Find(url, token, runsFolder) is { } found)
            return (found, url is null && Environment.GetEnvironmentVariable(AgentClient.UrlVariable) is null ? "the agent serving this runs folder" : "the agent named");
        Directory.CreateDirectory(runsFolder);
        var log = Path.Combine(runsFolder, "agent.log");
        var self = SelfCommand();
        var command = string.Join(' ', self.Concat(["agent", "--port", "0", "--runs-dir", runsFolder]).Select(Quote));
        var psi = new ProcessStartInfo("/bin/sh", ["-c", $"exec setsid {command} >> {Quote(log)} 2>&1 < /dev/null &"]) { UseShellExecute = false };
        using (var shell = Process.Start(psi)!)
            shell.WaitForExit();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < s_startPatience)
        {
            if (AgentClient.Find(null, token, runsFolder) is { } started)
                return (started, $"an agent it started (log: {log})");
            Thread.Sleep(200);
        }
        throw new AgentRequestException($"the agent started for {runsFolder} did not come up within {s_startPatience.TotalSeconds:F0} s; see {log}");
    }

    /// <summary>This program as a command line: `dotnet fta.dll` when run through dotnet, else its own executable.</summary>
    private static string[] SelfCommand()
    {
        var process = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? [process, typeof(AgentLink).Assembly.Location]
            : [process];
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>Whether the agent in agent.json is the one holding the runs folder's lock (used by tests and the status line).</summary>
    public static bool IsServing(string runsFolder) => FileLock.IsHeld(Path.Combine(runsFolder, AgentDaemon.LockFileName));
}
