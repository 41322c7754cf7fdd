using System.CommandLine;
using FineTuneAgent.Console.Tui;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta console [--agent URL] [--token T] [--runs-dir DIR]`: the full-screen terminal console over an agent (the one
/// named, else the one serving the runs folder, else one it starts in the background so runs outlive the console).
/// Without a terminal it prints what it would show and exits 2.
/// </summary>
public static class ConsoleCommand
{
    public const int NoTerminalExitCode = 2;

    public static Command Create()
    {
        var agent = new Option<string?>("--agent") { Description = $"The agent to connect to (http://host:port/); default: {AgentClient.UrlVariable}, else the agent serving --runs-dir, else one started for it." };
        var token = new Option<string?>("--token") { Description = $"The agent's auth token (default: {AgentClient.TokenVariable})." };
        var runsDir = new Option<string?>("--runs-dir") { Description = "The runs folder whose agent to use or start (default: FTA_RUNS_DIR or ~/.local/share/fta/runs)." };
        var command = new Command("console", "The terminal console: hardware, runs with live progress and loss curves, a new-run wizard, history, plugins.") { agent, token, runsDir };
        command.SetAction(parse =>
        {
            var folder = Path.GetFullPath(parse.GetValue(runsDir) ?? RunStore.DefaultFolder);
            var (client, how) = AgentLink.Connect(parse.GetValue(agent), parse.GetValue(token), folder);
            using (client)
            using (var data = new ConsoleData(client))
            {
                var app = new ConsoleApp(data, how);
                if (System.Console.IsOutputRedirected || System.Console.IsInputRedirected)
                {
                    // No terminal to draw on or read keys from: one snapshot of the dashboard, then a clear no.
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    while (data.Snapshot.At == DateTimeOffset.MinValue && clock.Elapsed < TimeSpan.FromSeconds(10))
                        Thread.Sleep(100);
                    foreach (var line in app.Snapshot(100, 40))
                        System.Console.WriteLine(line);
                    System.Console.Error.WriteLine("fta: error: fta console needs an interactive terminal (stdin and stdout a TTY); above is what it would show. Use `fta runs` and `fta train --json` in scripts.");
                    return NoTerminalExitCode;
                }
                return app.Run(Terminal.Create());
            }
        });
        return command;
    }
}
