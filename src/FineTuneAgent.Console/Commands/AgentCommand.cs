using System.CommandLine;
using System.Runtime.InteropServices;
using FineTuneAgent.Agent.Daemon;
using FineTuneAgent.Core.Config;
using FineTuneAgent.Core.Config.Hocon;
using FineTuneAgent.Core.History;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta agent [--config F] [--port N] [--runs-dir D]`: runs this workstation's agent in the foreground (the HTTP API,
/// the run queue, the history) until SIGTERM or Ctrl+C, which checkpoint running runs before it exits (0). Runs an
/// earlier agent left unfinished are resumed at start. The options override agent.hocon for one start.
/// </summary>
public static class AgentCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = $"The configuration file (default: {AgentConfigLoader.FileVariable}, else ./{AgentConfigLoader.FileName}, else the built-in defaults)." };
        var port = new Option<int?>("--port") { Description = "Listen on this port instead of agent.http.port (0: any free port; agent.json in the runs folder says which)." };
        var runsDir = new Option<string?>("--runs-dir") { Description = "Record runs here instead of agent.runs-directory." };
        var command = new Command("agent", "Run this workstation's agent: the HTTP API, the run queue and the history, until SIGTERM or Ctrl+C.") { config, port, runsDir };
        command.SetAction(parse => Run(parse.GetValue(config), parse.GetValue(port), parse.GetValue(runsDir)));
        return command;
    }

    private static int Run(string? file, int? port, string? runsDir)
    {
        LoadedAgentConfig loaded;
        try
        {
            loaded = AgentConfigLoader.Load(file);
        }
        catch (ConfigException e)
        {
            foreach (var p in e.Warnings)
                System.Console.Error.WriteLine($"fta: warning: {p}");
            foreach (var p in e.Errors)
                System.Console.Error.WriteLine($"fta: error: {p}");
            return 1;
        }
        catch (Exception e) when (e is HoconException or FileNotFoundException)
        {
            System.Console.Error.WriteLine($"fta: error: {e.Message}");
            return 1;
        }
        foreach (var p in loaded.Warnings)
            System.Console.Error.WriteLine($"fta: warning: {p}");
        var settings = loaded.Settings;
        if (port is { } p0)
            settings = settings with { Http = settings.Http with { Port = p0 } };
        if (runsDir is not null)
            settings = settings with { RunsDirectory = Path.GetFullPath(runsDir) };
        foreach (var (key, message) in settings.Http.Validate())
        {
            System.Console.Error.WriteLine($"fta: error: agent.http.{key}: {message}");
            return 1;
        }

        using var stop = new ManualResetEventSlim();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // we stop ourselves, after the runs have checkpointed
            stop.Set();
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        AgentDaemon daemon;
        try
        {
            daemon = AgentDaemon.StartAsync(settings, System.Console.Out).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or HistoryDatabaseException or UnauthorizedAccessException)
        {
            // Another agent on the folder, the port taken, a damaged history: one line, nothing changed.
            System.Console.Error.WriteLine($"fta: error: {e.Message}");
            return 1;
        }
        System.Console.Out.Flush();
        stop.Wait();
        System.Console.WriteLine("fta agent: stopping (running runs save a checkpoint first)");
        daemon.StopAsync().GetAwaiter().GetResult();
        System.Console.WriteLine("fta agent: stopped");
        return 0;
    }
}
