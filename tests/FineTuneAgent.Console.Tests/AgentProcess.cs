using System.Diagnostics;
using System.Net.Http.Json;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;

namespace FineTuneAgent.Console.Tests;

/// <summary>
/// A real `fta agent` process on a free loopback port over a runs folder, found through the agent.json it writes;
/// its output is collected. Killed (SIGKILL) on dispose if still running.
/// </summary>
internal sealed class AgentProcess : IDisposable
{
    private static readonly TimeSpan s_startPatience = TimeSpan.FromMinutes(1);
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AgentProcess(Process process, Uri url)
    {
        _process = process;
        Url = url;
        Http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromMinutes(1) };
    }

    public Uri Url { get; }

    public HttpClient Http { get; }

    public int Pid => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <param name="config">agent.hocon text for this agent (default: the built-in defaults).</param>
    public static AgentProcess Start(string runsDir, string? config = null)
    {
        var info = Path.Combine(runsDir, "agent.json");
        if (File.Exists(info))
            File.Delete(info); // a killed agent's leftover
        var dll = typeof(Fta).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "FtaDll").Value!;
        var psi = new ProcessStartInfo("dotnet", [dll, "agent", "--port", "0", "--runs-dir", runsDir])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = runsDir,
        };
        Directory.CreateDirectory(runsDir);
        var configFile = Path.Combine(runsDir, "agent-test.hocon");
        if (config is not null)
            File.WriteAllText(configFile, config);
        psi.Environment["FTA_CONFIG"] = config is null ? "" : configFile; // else the built-in defaults, whatever ./agent.hocon says
        var process = Process.Start(psi)!;
        var output = new StringBuilder();
        void Collect(string? line)
        {
            if (line is null)
                return;
            lock (output)
                output.AppendLine(line);
        }
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (!File.Exists(info))
        {
            if (process.HasExited || clock.Elapsed > s_startPatience)
            {
                if (!process.HasExited)
                    process.Kill();
                lock (output)
                    throw new InvalidOperationException($"fta agent did not start (exit {(process.HasExited ? process.ExitCode : -1)}):\n{output}");
            }
            Thread.Sleep(100);
        }
        var url = new Uri((string)JsonNode.Parse(File.ReadAllText(info))!["url"]!);
        var agent = new AgentProcess(process, url);
        lock (output)
            agent._output.Append(output);
        process.OutputDataReceived += (_, e) => agent.Append(e.Data);
        process.ErrorDataReceived += (_, e) => agent.Append(e.Data);
        return agent;
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    public async Task<string> Submit(JsonObject run)
    {
        using var response = await Http.PostAsync("api/v1/runs", new StringContent(run.ToJsonString(), Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == 202, body);
        return (string)JsonNode.Parse(body)!["run_id"]!;
    }

    public async Task<JsonObject> GetRun(string id) =>
        (await Http.GetFromJsonAsync<JsonObject>($"api/v1/runs/{id}"))!;

    /// <summary>Polls the run until <paramref name="done"/> holds for it (bounded: a bug must not hang the suite).</summary>
    public async Task<JsonObject> WaitFor(string id, Func<JsonObject, bool> done, TimeSpan? patience = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var run = await GetRun(id);
            if (done(run))
                return run;
            if (clock.Elapsed > (patience ?? TimeSpan.FromMinutes(4)))
                throw new TimeoutException($"run {id} did not get there: {run["live"]?.ToJsonString()}\n{Output}");
            await Task.Delay(200);
        }
    }

    public static int? LastStep(JsonObject run) => (int?)run["live"]?["last_step"];

    public static string? Status(JsonObject run) => (string?)run["live"]?["status"];

    public void Kill() => _process.Kill();

    /// <summary>Sends SIGTERM and waits for the agent to exit; returns its exit code.</summary>
    public int Terminate(TimeSpan patience)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
            kill.WaitForExit();
        if (!_process.WaitForExit(patience))
            throw new TimeoutException($"fta agent did not stop within {patience} of SIGTERM:\n{Output}");
        _process.WaitForExit(); // drains the output readers
        return _process.ExitCode;
    }

    public void Dispose()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
    }
}
