using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Quantization;
using FineTuneAgent.Torch;

namespace FineTuneAgent.Agent.Cluster;

/// <summary>
/// What a distributed run asks of a member before it starts: the model, datasets and rendezvous to check, and whether
/// the run trains on CUDA (then every member needs NCCL and a CUDA device).
/// </summary>
public sealed record PreflightRequest(string? Model, IReadOnlyList<string> Datasets, string? Store, IReadOnlyList<int> Ports, bool Cuda = false);

/// <summary>
/// One member's answer to a preflight: the versions that must match across workers (agent, libtorch, native shim ABI,
/// collectives built in, plugin builds), the content hashes of the model and datasets as it sees them, and whether it
/// reaches the coordinator's TCPStore and collective ports.
/// </summary>
public static class Preflight
{
    private static readonly TimeSpan s_connectTimeout = TimeSpan.FromSeconds(3);

    public static async Task<JsonObject> Facts(PreflightRequest request, PluginHost plugins)
    {
        var (abi, cuda, gloo, nccl) = torch.BuildFeatures();
        var facts = new JsonObject
        {
            ["agent_version"] = typeof(Preflight).Assembly.GetName().Version?.ToString(),
            ["libtorch"] = torch.__version__,
            ["shim_abi"] = abi,
            ["gloo"] = gloo,
            ["nccl"] = nccl,
            ["cuda"] = cuda,
            ["cuda_devices"] = Core.Training.CudaFacts.Probe().DeviceCount,
            ["plugins"] = new JsonObject(plugins.Plugins.Where(p => !p.IsFailure).OrderBy(p => p.Name, StringComparer.Ordinal)
                .Select(p => KeyValuePair.Create(p.Name, (JsonNode?)p.Version))),
        };
        if (request.Model is { } model)
            facts["model_hash"] = Try(() => CheckpointDigest.Compute(model));
        var datasets = new JsonObject();
        foreach (var d in request.Datasets)
            datasets[d] = Try(() => FileHash(d));
        facts["dataset_hashes"] = datasets;
        if (request.Store is { } store)
        {
            var colon = store.LastIndexOf(':');
            var host = store[..colon];
            var reach = new JsonObject();
            foreach (var port in new[] { int.Parse(store[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture) }.Concat(request.Ports))
                reach[port.ToString(System.Globalization.CultureInfo.InvariantCulture)] = await Reaches(host, port);
            facts["reaches"] = reach;
        }
        return facts;
    }

    private static string Try(Func<string> compute)
    {
        try
        {
            return compute();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"unreadable: {e.Message}";
        }
    }

    private static string FileHash(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Whether a TCP connection to host:port opens within a few seconds; the reason when it does not.</summary>
    private static async Task<JsonNode> Reaches(string host, int port)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(s_connectTimeout);
        var clock = Stopwatch.StartNew();
        try
        {
            await client.ConnectAsync(host, port, timeout.Token);
            return new JsonObject { ["ok"] = true, ["ms"] = Math.Round(clock.Elapsed.TotalMilliseconds, 1) };
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return new JsonObject { ["ok"] = false, ["error"] = e is OperationCanceledException ? $"no answer within {s_connectTimeout.TotalSeconds:F0} s" : e.Message };
        }
    }

    /// <summary>
    /// The preflight over this agent (the coordinator, the reference) and <paramref name="others"/>: this agent's facts
    /// taken here, each other member's asked over <c>POST /cluster/preflight-facts</c>; a member that does not answer
    /// is named in the report.
    /// </summary>
    /// <param name="selfName">This agent's name in the report; null when it is not one of the members checked (the first of <paramref name="others"/> is then the reference).</param>
    public static async Task<JsonObject> Check(PluginHost plugins, string? clusterToken, string? selfName, IEnumerable<ClusterMember> others, PreflightRequest request)
    {
        using var http = PeerHttp.Create(clusterToken, TimeSpan.FromMinutes(5));
        var body = new JsonObject
        {
            ["model"] = request.Model,
            ["datasets"] = new JsonArray(request.Datasets.Select(d => (JsonNode?)d).ToArray()),
            ["store"] = request.Store,
        };
        async Task<(string, JsonObject?, string?)> Ask(ClusterMember m)
        {
            try
            {
                using var response = await http.PostAsync(new Uri(new Uri(m.Url), "api/v1/cluster/preflight-facts"),
                    new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
                var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
                return response.IsSuccessStatusCode ? (m.Name, json, null) : (m.Name, null, (string?)json["error"]);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or System.Text.Json.JsonException or TaskCanceledException)
            {
                return (m.Name, null, e.Message);
            }
        }
        var answers = new List<(string, JsonObject?, string?)>();
        if (selfName is not null)
            answers.Add((selfName, await Facts(request, plugins), null));
        answers.AddRange(await Task.WhenAll(others.Select(Ask)));
        return Compare(answers, request.Cuda);
    }

    /// <summary>
    /// The report over every member's facts: for each fact that must match, the members that differ from the first
    /// (the coordinator), and each unreachable port; for a run on CUDA (<paramref name="cuda"/>), each member whose shim
    /// lacks NCCL or whose libtorch sees no CUDA device. Empty problems: the distributed run may start.
    /// </summary>
    public static JsonObject Compare(IReadOnlyList<(string Member, JsonObject? Facts, string? Error)> answers, bool cuda = false)
    {
        var problems = new List<string>();
        foreach (var (member, _, error) in answers.Where(a => a.Facts is null))
            problems.Add($"{member} did not answer the preflight: {error}");
        var answered = answers.Where(a => a.Facts is not null).ToList();
        if (answered.Count > 0)
        {
            var (first, reference, _) = answered[0];
            foreach (var key in new[] { "agent_version", "libtorch", "shim_abi", "gloo", "plugins", "model_hash", "dataset_hashes" })
            {
                foreach (var (member, facts, _) in answered.Skip(1))
                {
                    if (!JsonNode.DeepEquals(reference![key], facts![key]))
                        problems.Add($"{key} differs: {first} has {reference[key]?.ToJsonString() ?? "none"}, {member} has {facts[key]?.ToJsonString() ?? "none"}");
                }
            }
            foreach (var (member, answer, _) in answered)
            {
                var facts = answer!;
                if (!cuda && facts["gloo"] is JsonValue g && !g.GetValue<bool>())
                    problems.Add($"{member}: its native shim was built without Gloo (install libgloo-dev and rebuild)");
                if (cuda && (bool?)facts["nccl"] != true)
                    problems.Add($"{member}: the run trains on CUDA over NCCL, but its native shim was built without NCCL (CUDA build: {((bool?)facts["cuda"] == true ? "yes" : "no")})");
                if (cuda && ((int?)facts["cuda_devices"] ?? 0) < 1)
                    problems.Add($"{member}: the run trains on CUDA, but libtorch there reports no CUDA device (CUDA build: {((bool?)facts["cuda"] == true ? "yes" : "no")}, CUDA devices: {(int?)facts["cuda_devices"] ?? 0})");
                foreach (var (key, hash) in (facts["dataset_hashes"] as JsonObject ?? []).Where(d => ((string?)d.Value)?.StartsWith("unreadable", StringComparison.Ordinal) == true))
                    problems.Add($"{member}: dataset {key} {hash}");
                if (((string?)facts["model_hash"])?.StartsWith("unreadable", StringComparison.Ordinal) == true)
                    problems.Add($"{member}: model {facts["model_hash"]}");
                foreach (var (port, reach) in facts["reaches"] as JsonObject ?? [])
                {
                    if ((bool?)reach?["ok"] != true)
                        problems.Add($"{member} cannot reach the coordinator's port {port}: {reach?["error"]}");
                }
            }
        }
        return new JsonObject
        {
            ["ok"] = problems.Count == 0,
            ["problems"] = new JsonArray(problems.Select(p => (JsonNode?)p).ToArray()),
            ["members"] = new JsonObject(answers.Select(a => KeyValuePair.Create(a.Member, (JsonNode?)(a.Facts?.DeepClone() ?? new JsonObject { ["error"] = a.Error })))),
        };
    }
}
