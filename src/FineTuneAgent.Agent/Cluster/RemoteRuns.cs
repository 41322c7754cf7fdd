using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using FineTuneAgent.Actors;
using FineTuneAgent.Agent.Daemon;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Agent.Cluster;

/// <summary>
/// Runs this agent placed on another member of the pool. Submitting forwards the run to the member's API (with the
/// cluster token) and records it here as queued; a mirror then follows the member's event stream for the run and
/// writes it into this agent's history (metrics, retries, status, summary) and event log, so the submitter's history
/// and console see the run as if it were local. Cancels are forwarded. Paths in the run (model, datasets) are the
/// member's: the pool is expected to share them (the same layout, or a network file system).
/// </summary>
public sealed class RemoteRuns(string? clusterToken, IActorRef history, RunEventHub events, string selfUrl) : IDisposable
{
    private readonly ConcurrentDictionary<string, string> _memberOf = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly HttpClient _http = PeerHttp.Create(clusterToken, Timeout.InfiniteTimeSpan); // event streams last as long as runs

    /// <summary>The member URL a run was placed on, when this agent placed it elsewhere.</summary>
    public string? MemberOf(string runId) => _memberOf.GetValueOrDefault(runId);

    /// <summary>Forwards <paramref name="run"/> (with its run_id) to <paramref name="member"/>, records it here, and starts its mirror; returns the member's answer.</summary>
    public async Task<JsonObject> Submit(ClusterMember member, JsonObject run)
    {
        var id = (string)run["run_id"]!;
        // The member hands the run back here if it leaves before the run ends.
        var forwarded = run.DeepClone().AsObject();
        forwarded["origin"] = selfUrl;
        using var response = await _http.PostAsJsonAsync(new Uri(new Uri(member.Url), "api/v1/runs"), forwarded).ConfigureAwait(false);
        var answer = await response.Content.ReadFromJsonAsync<JsonObject>().ConfigureAwait(false) ?? new JsonObject();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"member {member.Name} refused the run ({(int)response.StatusCode}): {answer["error"]}");
        _memberOf[id] = member.Url;
        history.Tell(new HistoryProtocol.RecordRun(new HistoryRun
        {
            Id = id,
            Status = RunStatus.Queued,
            Method = (string?)run["method"],
            ModelPath = (string?)run["model"],
            Config = run.DeepClone().AsObject(),
            Hardware = member.Hardware?.DeepClone().AsObject(),
            OutputDirectory = $"{member.Name}:{run["output_dir"]}",
        }));
        var log = events.For(id);
        log.Append("placed", new JsonObject { ["event"] = "placed", ["run_id"] = id, ["member"] = member.Name, ["url"] = member.Url });
        _ = Task.Run(() => Mirror(id, member, log));
        answer["member"] = member.Name;
        return answer;
    }

    /// <summary>The member gave the run back (it left): it is no longer mirrored or forwarded to.</summary>
    public void Forget(string runId) => _memberOf.TryRemove(runId, out _);

    /// <summary>Forwards a cancel; false when the run was not placed elsewhere by this agent.</summary>
    public async Task<bool> Cancel(string runId)
    {
        if (MemberOf(runId) is not { } url)
            return false;
        using var response = await _http.PostAsync(new Uri(new Uri(url), $"api/v1/runs/{Uri.EscapeDataString(runId)}/cancel"), null).ConfigureAwait(false);
        return response.IsSuccessStatusCode;
    }

    /// <summary>Follows the member's stream to the outcome (reconnecting with Last-Event-ID), writing what it says here.</summary>
    private async Task Mirror(string runId, ClusterMember member, RunEventLog log)
    {
        long last = 0;
        for (var attempt = 0; attempt < 30 && !_stop.IsCancellationRequested; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(member.Url), $"api/v1/runs/{Uri.EscapeDataString(runId)}/events"));
                if (last > 0)
                    request.Headers.Add("Last-Event-ID", last.ToString(System.Globalization.CultureInfo.InvariantCulture));
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _stop.Token).ConfigureAwait(false);
                response.EnsureSuccessStatusCode();
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(_stop.Token).ConfigureAwait(false), Encoding.UTF8);
                var parser = new ServerSentEventParser(last);
                while (await reader.ReadLineAsync(_stop.Token).ConfigureAwait(false) is { } line)
                {
                    if (parser.Line(line) is not { } e)
                        continue;
                    last = e.Id;
                    if (Record(runId, e.Event, log))
                        return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException or System.Text.Json.JsonException or InvalidDataException)
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, 1 + attempt)), _stop.Token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Writes one event of the member's run here; true once it was the outcome.</summary>
    private bool Record(string runId, JsonObject e, RunEventLog log)
    {
        var name = (string?)e["event"];
        var outcome = name == "outcome";
        log.Append(name ?? "event", e, last: outcome);
        switch (name)
        {
            case "started":
                history.Tell(new HistoryProtocol.UpdateStatus(runId, RunStatus.Running));
                break;
            case "retry" when (int?)e["from_step"] is { } from:
                history.Tell(new HistoryProtocol.TruncateMetricsAfter(runId, from));
                break;
            case "message" when ((string?)e["text"])?.Contains("resuming from", StringComparison.Ordinal) == true:
                break;
        }
        if (HistoryMetric.FromEventJson(e) is { } metric)
            history.Tell(new HistoryProtocol.AppendMetrics(runId, [metric]));
        if (outcome)
        {
            var status = (string?)e["status"] switch
            {
                "completed" => RunStatus.Completed,
                "cancelled" => RunStatus.Cancelled,
                "interrupted" => RunStatus.Interrupted,
                _ => RunStatus.Failed,
            };
            history.Tell(new HistoryProtocol.UpdateStatus(runId, status, (string?)e["error"], e["summary"]?.DeepClone() as JsonObject));
        }
        return outcome;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _http.Dispose();
        _stop.Dispose();
    }
}
