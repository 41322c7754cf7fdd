using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Agent.Daemon;
using FineTuneAgent.Core;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Console;

/// <summary>
/// The CLI's side of a running agent's HTTP API (<see cref="AgentApi"/>): submit a run, follow its server-sent
/// events (reconnecting with Last-Event-ID when the stream drops, so no event is missed or repeated), cancel it.
/// Which agent: <c>--agent URL</c>, else FTA_AGENT_URL, else the live agent serving the runs folder (its agent.json,
/// while it holds agent.lock); none: the command runs in-process.
/// </summary>
public sealed class AgentClient : IDisposable
{
    public const string UrlVariable = "FTA_AGENT_URL";
    public const string TokenVariable = "FTA_AUTH_TOKEN";
    private const int MaxReconnects = 5;

    private readonly HttpClient _http;

    public AgentClient(Uri url, string? token)
    {
        Url = url;
        _http = new HttpClient { BaseAddress = url, Timeout = Timeout.InfiniteTimeSpan };
        if (token is { Length: > 0 })
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public Uri Url { get; }

    /// <summary>The agent to talk to, or null to run in-process (see the class summary for the order).</summary>
    public static AgentClient? Find(string? url, string? token, string runsFolder)
    {
        token ??= Environment.GetEnvironmentVariable(TokenVariable);
        url ??= Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } fromEnv ? fromEnv : null;
        if (url is null)
            return Serving(runsFolder, token);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"--agent {url}: expected an http:// URL such as http://127.0.0.1:8470/");
        return new AgentClient(new Uri(uri.ToString().TrimEnd('/') + "/"), token);
    }

    /// <summary>The live agent serving <paramref name="runsFolder"/> (its agent.json, while it holds agent.lock), or null.</summary>
    public static AgentClient? Serving(string runsFolder, string? token = null)
    {
        var info = Path.Combine(runsFolder, AgentDaemon.InfoFileName);
        if (!File.Exists(info) || !FileLock.IsHeld(Path.Combine(runsFolder, AgentDaemon.LockFileName)))
            return null;
        string? url;
        try
        {
            url = (string?)JsonNode.Parse(File.ReadAllText(info))?["url"];
        }
        catch (JsonException)
        {
            return null; // being rewritten; as if no agent
        }
        return url is not null && Uri.TryCreate(url, UriKind.Absolute, out var uri)
            ? new AgentClient(uri, token ?? Environment.GetEnvironmentVariable(TokenVariable))
            : null;
    }

    /// <summary>
    /// Submits <paramref name="run"/> (a TrainRequest's JSON) or a resume, reports every event of the run to
    /// <paramref name="progress"/> as the agent sends it, and returns the summary; a failed run throws with the agent's
    /// reason, a cancelled one OperationCanceledException. The token cancels the run on the agent (it saves a
    /// checkpoint) and still waits for its outcome.
    /// </summary>
    public TrainingSummary Train(JsonObject? run, string? resume, IProgress<TrainingEvent> progress, CancellationToken cancellation)
    {
        var submitted = resume is null
            ? Send(HttpMethod.Post, "api/v1/runs", run)
            : Send(HttpMethod.Post, $"api/v1/runs/{Uri.EscapeDataString(resume)}/resume", null);
        var runId = (string)submitted["run_id"]!;
        progress.Report(new JobMessage($"run {runId} submitted to the agent at {Url} ({submitted["status"]}{(submitted["position"] is { } p ? $", position {p}" : "")})"));
        using var cancelled = cancellation.Register(() =>
        {
            try
            {
                Send(HttpMethod.Post, $"api/v1/runs/{runId}/cancel", null);
            }
            catch (Exception e) when (e is AgentRequestException or ArgumentException)
            {
                // it ended meanwhile
            }
        });
        var outcome = Follow(runId, progress);
        switch ((string?)outcome["status"])
        {
            case "completed":
                return TrainingSummary.FromJson(outcome["summary"]!.AsObject(), $"{Url} run {runId}");
            case "cancelled":
            case "interrupted":
                throw new OperationCanceledException(outcome["checkpoint"] is { } c
                    ? $"run {runId} {outcome["status"]} on the agent; {c} was saved. Continue with: fta train --resume {runId} --agent {Url}"
                    : $"run {runId} {outcome["status"]} on the agent before its first checkpoint");
            default:
                throw new AgentRequestException($"run {runId} failed on the agent at {Url}: {outcome["error"]}");
        }
    }

    /// <summary>Reads the run's event stream to its outcome event, which it returns.</summary>
    private JsonObject Follow(string runId, IProgress<TrainingEvent> progress)
    {
        long last = 0;
        for (var attempt = 0; attempt <= MaxReconnects; attempt++)
        {
            try
            {
                foreach (var (id, json) in Events(runId, last, CancellationToken.None))
                {
                    last = id;
                    if ((string?)json["event"] == "outcome")
                        return json;
                    if (Describe(json) is { } e)
                        progress.Report(e);
                }
            }
            catch (Exception e) when (e is IOException or HttpRequestException && attempt < MaxReconnects)
            {
                Thread.Sleep(TimeSpan.FromSeconds(1 << attempt));
            }
        }
        throw new AgentRequestException($"the event stream of run {runId} from {Url} kept ending before the run's outcome");
    }

    /// <summary>
    /// The run's events after event <paramref name="after"/> as the agent streams them (server-sent events), each with
    /// its number; the sequence ends when the stream does (after the outcome, or when the connection drops).
    /// </summary>
    public IEnumerable<(long Id, JsonObject Event)> Events(string runId, long after, CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/v1/runs/{Uri.EscapeDataString(runId)}/events");
        if (after > 0)
            request.Headers.Add("Last-Event-ID", after.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = _http.Send(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
        if (!response.IsSuccessStatusCode)
            throw Failure(response);
        using var stream = response.Content.ReadAsStream(cancellation);
        using var registration = cancellation.Register(stream.Dispose);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var parser = new ServerSentEventParser(after);
        while (!cancellation.IsCancellationRequested && ReadLine(reader) is { } line)
        {
            if (parser.Line(line) is { } e)
                yield return e;
        }
    }

    /// <summary>A line, or null at the end; a stream disposed by cancellation reads as its end.</summary>
    private static string? ReadLine(StreamReader reader)
    {
        try
        {
            return reader.ReadLine();
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>A streamed event as the training view shows it: training events as they are; the agent's own as messages.</summary>
    private static TrainingEvent? Describe(JsonObject json) => (string?)json["event"] switch
    {
        "queued" => new JobMessage($"queued at position {json["position"]}{(json["recovered"] is { } r ? $" ({r})" : "")}"),
        "started" => new JobMessage($"started on {json["device"]}"),
        _ => TrainingEventJson.TryRead(json),
    };

    public JsonObject Get(string path) => Send(HttpMethod.Get, path, null);

    public JsonObject Post(string path, JsonObject? body = null) => Send(HttpMethod.Post, path, body);

    public JsonObject Delete(string path) => Send(HttpMethod.Delete, path, null);

    private JsonObject Send(HttpMethod method, string path, JsonObject? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        HttpResponseMessage response;
        try
        {
            response = _http.Send(request);
        }
        catch (HttpRequestException e)
        {
            throw new AgentRequestException($"the agent at {Url} cannot be reached ({e.Message}); start it with `fta agent`, or drop --agent and {UrlVariable} to train here", e);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw Failure(response);
            return JsonNode.Parse(response.Content.ReadAsStream())!.AsObject();
        }
    }

    /// <summary>The agent's error message with its status: 400s are the request's fault (the caller's ArgumentException), the rest the agent's.</summary>
    private Exception Failure(HttpResponseMessage response)
    {
        string message;
        try
        {
            message = (string?)JsonNode.Parse(response.Content.ReadAsStream())?["error"] ?? response.ReasonPhrase ?? "";
        }
        catch (JsonException)
        {
            message = response.ReasonPhrase ?? "";
        }
        var text = $"the agent at {Url} answered {(int)response.StatusCode}: {message}";
        return response.StatusCode switch
        {
            HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.Conflict => new ArgumentException(text),
            HttpStatusCode.Unauthorized => new UnauthorizedAccessException($"{text} (give the agent's token with --token or {TokenVariable})"),
            _ => new AgentRequestException(text),
        };
    }

    public void Dispose() => _http.Dispose();
}
