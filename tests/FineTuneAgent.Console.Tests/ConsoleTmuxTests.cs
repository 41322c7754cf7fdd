using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FineTuneAgent.Console.Tests;

/// <summary>
/// The real `fta console` in a real terminal (tmux): keys sent with send-keys, screens read with capture-pane. It starts
/// its own agent for a fresh runs folder, a run is started through the wizard with the recommended method and watched
/// as its step count moves, history shows it, and quitting (q or Ctrl+C) leaves the run going in the agent.
/// </summary>
public sealed partial class ConsoleTmuxTests : IDisposable
{
    private static readonly TimeSpan s_patience = TimeSpan.FromMinutes(2);
    private readonly string _runs = Directory.CreateTempSubdirectory("fta-console-").FullName;
    private readonly string _session = $"fta{Guid.NewGuid():N}"[..12];

    public void Dispose()
    {
        Tmux("kill-session", "-t", _session);
        // The agent the console started runs in its own session: stop it (SIGTERM checkpoints and exits).
        var info = Path.Combine(_runs, "agent.json");
        if (File.Exists(info) && (int?)JsonNode.Parse(File.ReadAllText(info))?["pid"] is { } pid)
        {
            try
            {
                using var agent = Process.GetProcessById(pid);
                agent.Kill();
                agent.WaitForExit(10_000);
            }
            catch (ArgumentException)
            {
                // already gone
            }
        }
        Directory.Delete(_runs, recursive: true);
    }

    private static string Tmux(params string[] args)
    {
        var psi = new ProcessStartInfo("tmux", args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return output;
    }

    private void Start(int width, int height)
    {
        var dll = typeof(Fta).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "FtaDll").Value!;
        // After the console exits the pane stays open (sleep) so its exit code can be read from the marker file.
        var command = $"cd '{_runs}' && FTA_CONFIG= dotnet '{dll}' console --runs-dir '{_runs}'; echo \"exit=$?\" > '{_runs}/console-exit'; sleep 600";
        Tmux("new-session", "-d", "-s", _session, "-x", width.ToString(), "-y", height.ToString(), command);
    }

    private string Screen() => Tmux("capture-pane", "-p", "-t", _session);

    private void Keys(params string[] keys)
    {
        foreach (var key in keys)
        {
            Tmux("send-keys", "-t", _session, key);
            Thread.Sleep(300);
        }
    }

    /// <summary>Captures the pane until <paramref name="ok"/> holds for the screen (bounded, with the last screen in the failure).</summary>
    private string WaitFor(Func<string, bool> ok, string what)
    {
        var clock = Stopwatch.StartNew();
        string screen;
        while (!ok(screen = Screen()))
        {
            if (clock.Elapsed > s_patience)
                Assert.Fail($"the console never showed {what}; last screen:\n{screen}");
            Thread.Sleep(250);
        }
        return screen;
    }

    private string? ExitMarker() => File.Exists(Path.Combine(_runs, "console-exit")) ? File.ReadAllText(Path.Combine(_runs, "console-exit")).Trim() : null;

    [GeneratedRegex(@"step (\d+)/(\d+)")]
    private static partial Regex StepPattern();

    private static void AssertFits(string screen, int width, int height)
    {
        var lines = screen.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length <= height, $"{lines.Length} lines on a {height}-line terminal:\n{screen}");
        Assert.All(lines, l => Assert.True(l.Length <= width, $"a line wider than {width}: {l}"));
        Assert.StartsWith(" fta console", lines[0]);
    }

    [Fact]
    public void Wizard_StartsATinyRunWithTheRecommendedMethod_ProgressMoves_HistoryShowsIt_AndQuittingLeavesItRunning()
    {
        Start(80, 24);
        var home = WaitFor(s => s.Contains("Hardware CPU", StringComparison.Ordinal) && s.Contains("no runs yet", StringComparison.Ordinal), "the dashboard with the hardware");
        AssertFits(home, 80, 24);
        Assert.Contains("n new run", home);

        // The wizard: built-in model, bundled data, the recommendation (full for the built-in model, with its reason).
        Keys("n");
        WaitFor(s => s.Contains("1/5 model", StringComparison.Ordinal), "the wizard's first step");
        Keys("Enter");
        WaitFor(s => s.Contains("2/5 dataset", StringComparison.Ordinal), "the dataset step");
        Keys("Enter");
        var recommendation = WaitFor(s => s.Contains("3/5 recommendation", StringComparison.Ordinal), "the recommendation");
        Assert.Contains("random weights", recommendation);
        Keys("Enter");
        var form = WaitFor(s => s.Contains("4/5 hyper-parameters", StringComparison.Ordinal), "the hyper-parameters");
        Assert.Matches(@"method\s+full", form); // preselected from the recommendation
        // Edit max steps to 400 (long enough to still run after the console quits).
        Keys("Down", "Enter", "C-u", "400", "Enter");
        Assert.Matches(@"max steps\s+400", WaitFor(s => s.Contains("400", StringComparison.Ordinal), "the edited max steps"));
        Keys("Tab");
        var summary = WaitFor(s => s.Contains("5/5 summary", StringComparison.Ordinal), "the summary");
        Assert.Contains("built-in tiny Qwen3", summary);
        Keys("Enter");

        // The run's view: the step count moves.
        var first = WaitFor(s => StepPattern().Match(s) is { Success: true } m && int.Parse(m.Groups[1].Value) >= 1, "a first step");
        var firstStep = int.Parse(StepPattern().Match(first).Groups[1].Value);
        Assert.Equal("400", StepPattern().Match(first).Groups[2].Value);
        var later = WaitFor(s => StepPattern().Match(s) is { Success: true } m && int.Parse(m.Groups[1].Value) > firstStep + 2, "the step count moving");
        Assert.Contains("Loss of", later);
        Assert.Contains("running", later);
        AssertFits(later, 80, 24);
        var runId = Regex.Match(later, @"run (\d{8}-\d{6}-[0-9a-f]{6})").Groups[1].Value;
        Assert.NotEmpty(runId);

        // Back on the dashboard the run has a row; history lists it.
        Keys("Escape");
        var dashboard = WaitFor(s => s.Contains("1 running", StringComparison.Ordinal), "the run on the dashboard");
        Assert.Contains(runId[^13..], dashboard);
        Keys("h");
        var history = WaitFor(s => s.Contains("history", StringComparison.Ordinal) && s.Contains(runId[^13..], StringComparison.Ordinal), "the run in history");
        Assert.Contains("1 of 1 runs", history);
        Keys("Escape", "q");

        // The console exited cleanly; the run goes on in the agent it started.
        var clock = Stopwatch.StartNew();
        while (ExitMarker() is null && clock.Elapsed < s_patience)
            Thread.Sleep(200);
        Assert.Equal("exit=0", ExitMarker());
        var runJson = Path.Combine(_runs, runId, "run.json");
        Assert.Equal("running", (string?)JsonNode.Parse(File.ReadAllText(runJson))!["status"]);
        var steps = Path.Combine(_runs, runId, "metrics.jsonl");
        var before = File.ReadAllLines(steps).Length;
        clock.Restart();
        while (File.ReadAllLines(steps).Length <= before && clock.Elapsed < s_patience)
            Thread.Sleep(250);
        Assert.True(File.ReadAllLines(steps).Length > before, "the run stopped when the console quit");
    }

    [Fact]
    public async Task ResizedTo80x24_EverythingStillFits_AndCtrlCExitsCleanly_LeavingRunsGoing()
    {
        Start(120, 40);
        var wide = WaitFor(s => s.Contains("Hardware CPU", StringComparison.Ordinal), "the dashboard");
        AssertFits(wide, 120, 40);
        Tmux("resize-window", "-t", _session, "-x", "80", "-y", "24");
        // Until the console redraws, tmux shows the old frame's bottom rows; the redrawn frame starts with the title bar.
        var narrow = WaitFor(s => s.StartsWith(" fta console", StringComparison.Ordinal) && s.Contains("q quit", StringComparison.Ordinal)
            && s.Contains("RUN", StringComparison.Ordinal) && s.Split('\n').All(l => l.Length <= 80), "the dashboard redrawn at 80x24");
        AssertFits(narrow, 80, 24);
        Assert.Contains("RUN", narrow);
        Assert.Contains("Log", narrow);
        Keys("p");
        var plugins = WaitFor(s => s.Contains("plugins", StringComparison.Ordinal) && s.Contains("lora", StringComparison.Ordinal), "the plugins");
        Assert.Contains("loaded", plugins);
        AssertFits(plugins, 80, 24);
        Keys("r");
        WaitFor(s => s.Contains("plugins reloaded", StringComparison.Ordinal), "the reload's notice");

        // A run going in the agent (submitted through its API), then Ctrl+C: the console exits 0, the run goes on.
        var url = (string)JsonNode.Parse(File.ReadAllText(Path.Combine(_runs, "agent.json")))!["url"]!;
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        const string body = """{"method": "full", "training": {"max_steps": 400, "save_steps": 1000}, "evaluation": {"enabled": false}}""";
        using var submitted = await http.PostAsync("api/v1/runs", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, submitted.StatusCode);
        var runId = (string)JsonNode.Parse(await submitted.Content.ReadAsStringAsync())!["run_id"]!;
        Keys("Escape");
        WaitFor(s => s.Contains("1 running", StringComparison.Ordinal), "the run on the dashboard");
        Keys("C-c");
        var clock = Stopwatch.StartNew();
        while (ExitMarker() is null && clock.Elapsed < s_patience)
            Thread.Sleep(200);
        Assert.Equal("exit=0", ExitMarker());
        var metrics = Path.Combine(_runs, runId, "metrics.jsonl");
        int Lines() => File.Exists(metrics) ? File.ReadAllLines(metrics).Length : 0;
        var before = Lines();
        clock.Restart();
        while (Lines() <= before && clock.Elapsed < s_patience)
            Thread.Sleep(250);
        Assert.True(Lines() > before, "the run stopped when the console exited on Ctrl+C");
    }

    [Fact]
    public void History_FiltersRuns_AndComparesTwo_WithOverlaidCurvesAndTheirConfigDifferences()
    {
        // Two short runs recorded before the console starts (in-process `fta train`), differing in method and rate.
        foreach (var args in new[] { new[] { "--method", "full" }, ["--method", "lora", "--lr", "1e-3"] })
        {
            var (code, _, stderr) = Fta.Run(["train", "--max-steps", "3", "--no-eval", "--json", "--runs-dir", _runs, .. args]);
            Assert.True(code == 0, stderr);
        }
        Start(100, 30);
        WaitFor(s => s.Contains("2 in history", StringComparison.Ordinal), "both runs");
        Keys("h");
        WaitFor(s => s.Contains("2 of 2 runs", StringComparison.Ordinal), "the history");
        Keys("/", "l", "o", "r", "a", "Enter");
        var filtered = WaitFor(s => s.Contains("1 of 2 runs", StringComparison.Ordinal), "the filtered history");
        Assert.Contains("lora", filtered);
        Keys("/", "Escape"); // clears the filter
        WaitFor(s => s.Contains("2 of 2 runs", StringComparison.Ordinal), "the filter cleared");
        Keys("m", "Down", "m");
        var compare = WaitFor(s => s.Contains("Configuration differences", StringComparison.Ordinal), "the comparison");
        Assert.Matches("method: \"(full|lora)\" → \"(lora|full)\"", compare);
        Assert.Contains("training.learning_rate", compare);
        Assert.Matches(@"⣿ A \S+ +⣿ B ", compare); // both curves, overlaid, in one legend
        AssertFits(compare, 100, 30);
    }

    [Fact]
    public void WithoutATerminal_ItPrintsWhatItWouldShow_AndExitsNonZero()
    {
        var (code, stdout, stderr) = Fta.RunWith(new Dictionary<string, string> { ["FTA_CONFIG"] = "" }, "console", "--runs-dir", _runs);
        Assert.Equal(2, code);
        Assert.Contains("fta console · dashboard", stdout);
        Assert.Contains("Hardware CPU", stdout);
        Assert.Contains("needs an interactive terminal", stderr);
    }
}
