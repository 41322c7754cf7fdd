using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using FineTuneAgent.Agent.Daemon;
using FineTuneAgent.Core.Config;

namespace FineTuneAgent.Agent.Tests;

/// <summary>One server-sent event as a client parsed it off the wire: its id, its name and its data.</summary>
public sealed record SseEvent(long Id, string Event, JsonObject Data);

/// <summary>
/// An agent daemon started in-process, as `fta agent` starts it, on a free loopback port over a temporary runs folder,
/// with an HttpClient for it: the API tests talk to the agent over real HTTP only, as a remote client would.
/// Disposing stops the agent (as SIGTERM does) and deletes the folder.
/// </summary>
public sealed class AgentApiHarness : IAsyncDisposable
{
    public const string Token = "api-test-token-0123456789";

    private AgentApiHarness(string folder, AgentDaemon daemon, Uri baseUrl)
    {
        Folder = folder;
        Daemon = daemon;
        BaseUrl = baseUrl;
        Client = NewClient(daemon.Settings.Http.AuthToken);
    }

    public string Folder { get; }

    public string RunsFolder => Daemon.Settings.RunsDirectory;

    public AgentDaemon Daemon { get; }

    /// <summary>Where a client on this machine reaches the agent (loopback even when it listens on every address).</summary>
    public Uri BaseUrl { get; }

    /// <summary>A client carrying the agent's token, when it has one.</summary>
    public HttpClient Client { get; }

    /// <summary>
    /// Starts an agent on port 0 (a free port) over a new temporary folder; <paramref name="http"/> changes the HTTP
    /// settings, <paramref name="before"/> may lay files in the runs folder first (it is given its path).
    /// </summary>
    public static async Task<AgentApiHarness> StartAsync(Func<HttpSettings, HttpSettings>? http = null, Action<string>? before = null)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"fta-api-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var runs = Path.Combine(folder, "runs");
            before?.Invoke(runs);
            var daemon = await AgentDaemon.StartAsync(Settings(folder, http), null, Path.Combine(Repo.Root(), "artifacts", "tokenizers"));
            var url = daemon.Url;
            if (url.Host is "0.0.0.0" or "[::]")
                url = new UriBuilder(url) { Host = "127.0.0.1" }.Uri;
            return new AgentApiHarness(folder, daemon, url);
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    /// <summary>The agent's settings for a test: its folders under <paramref name="folder"/>, the real plugins, port 0.</summary>
    public static AgentSettings Settings(string folder, Func<HttpSettings, HttpSettings>? http = null) => new()
    {
        Name = "api-test-agent",
        RunsDirectory = Path.Combine(folder, "runs"),
        ModelsDirectory = Path.Combine(folder, "models"),
        PluginsDirectory = Path.Combine(AppContext.BaseDirectory, "plugins"),
        Http = (http ?? (h => h))(new HttpSettings { BindAddress = "127.0.0.1", Port = 0 }),
    };

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Daemon.StopAsync(TimeSpan.FromMinutes(2));
        if (Directory.Exists(Folder))
            Directory.Delete(Folder, recursive: true);
    }

    /// <summary>A new client of the agent; <paramref name="token"/> null sends no Authorization header.</summary>
    public HttpClient NewClient(string? token)
    {
        var client = new HttpClient { BaseAddress = BaseUrl, Timeout = JobHarness.Patience };
        if (token is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>8 alpaca rows of arithmetic, written once into the test's folder; its path.</summary>
    public string Dataset()
    {
        var path = Path.Combine(Folder, "data.jsonl");
        if (!File.Exists(path))
            File.WriteAllLines(path, Enumerable.Range(1, 8).Select(i => $"{{\"instruction\": \"What is {i} + {i}?\", \"input\": \"\", \"output\": \"{i} + {i} = {2 * i}.\"}}"));
        return path;
    }

    /// <summary>A run of the built-in tiny Qwen3 (no model given) with LoRA rank 4 on <see cref="Dataset"/>: as a client would POST it.</summary>
    public JsonObject Run(int steps = 4, int saveSteps = 2) => new()
    {
        ["training"] = new JsonObject
        {
            ["max_steps"] = steps,
            ["save_steps"] = saveSteps,
            ["per_device_train_batch_size"] = 2,
            ["cutoff_len"] = 64,
            ["learning_rate"] = 1e-3,
        },
        ["method"] = "lora",
        ["method_settings"] = new JsonObject { ["r"] = 4 },
        ["datasets"] = new JsonArray(Dataset()),
    };

    public static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    public Task<HttpResponseMessage> Post(string path, JsonNode body, HttpClient? client = null) =>
        (client ?? Client).PostAsync(path, Json(body.ToJsonString()));

    /// <summary>The response's status and its body as a JSON object (every answer of the API is one).</summary>
    public static async Task<(HttpStatusCode Status, JsonObject Body)> Read(HttpResponseMessage response)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.Content.Headers.ContentType?.MediaType == "application/json", $"{(int)response.StatusCode}: not JSON: {text}");
            return (response.StatusCode, JsonNode.Parse(text)!.AsObject());
        }
    }

    public async Task<(HttpStatusCode Status, JsonObject Body)> Get(string path, HttpClient? client = null) => await Read(await (client ?? Client).GetAsync(path));

    /// <summary>Submits <paramref name="run"/>; asserts the 202 and returns the answer.</summary>
    public async Task<JsonObject> Submit(JsonObject run)
    {
        var (status, body) = await Read(await Post("/api/v1/runs", run));
        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status}: {body}");
        return body;
    }

    /// <summary>
    /// The run's event stream read to its end (the server closes it after the outcome), from after
    /// <paramref name="lastEventId"/> when given; <paramref name="seen"/> is told each event as it arrives.
    /// </summary>
    public async Task<List<SseEvent>> Events(string runId, long? lastEventId = null, HttpClient? client = null, Action<SseEvent>? seen = null)
    {
        using var timeout = new CancellationTokenSource(JobHarness.Patience);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/runs/{runId}/events");
        if (lastEventId is { } after)
            request.Headers.Add("Last-Event-ID", after.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await (client ?? Client).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return await ParseEvents(await response.Content.ReadAsStreamAsync(timeout.Token), seen, timeout.Token);
    }

    /// <summary>Server-sent events as the EventSource spec reads them (comments skipped, an event ends at a blank line).</summary>
    public static async Task<List<SseEvent>> ParseEvents(Stream stream, Action<SseEvent>? seen, CancellationToken cancellation)
    {
        var events = new List<SseEvent>();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? id = null, name = null, data = null;
        while (await reader.ReadLineAsync(cancellation) is { } line)
        {
            if (line.Length == 0)
            {
                if (data is not null)
                {
                    var e = new SseEvent(long.Parse(id!, System.Globalization.CultureInfo.InvariantCulture), name ?? "message", JsonNode.Parse(data)!.AsObject());
                    events.Add(e);
                    seen?.Invoke(e);
                }
                (id, name, data) = (null, null, null);
            }
            else if (line.StartsWith(':'))
                continue;
            else if (line.StartsWith("id: ", StringComparison.Ordinal))
                id = line[4..];
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
                name = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
                data = data is null ? line[6..] : data + "\n" + line[6..];
        }
        return events;
    }

    /// <summary>
    /// GET /runs/{id} until <paramref name="done"/> holds (the history is written by its own actor, a moment after the
    /// event that told of it); fails after <see cref="JobHarness.Patience"/>.
    /// </summary>
    public async Task<JsonObject> WaitForRun(string runId, Func<JsonObject, bool> done)
    {
        var deadline = DateTime.UtcNow + JobHarness.Patience;
        while (true)
        {
            var (status, body) = await Get($"/api/v1/runs/{runId}");
            Assert.Equal(HttpStatusCode.OK, status);
            if (done(body))
                return body;
            Assert.True(DateTime.UtcNow < deadline, $"run {runId} did not get there: {body}");
            await Task.Delay(50);
        }
    }
}
