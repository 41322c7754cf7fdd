using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.Training;
using Spectre.Console;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta cluster members [--agent URL] [--token T] [--runs-dir DIR] [--json]`: the pool as the agent sees it: each
/// member's state (joining, up, unreachable, down, leaving, removed), φ, last heartbeat, runs and hardware.
/// `fta cluster place (--model DIR | --params 7B --arch A)`: where a run of that model would go, and why.
/// </summary>
public static class ClusterCommand
{
    public static Command Create()
    {
        var agentUrl = new Option<string?>("--agent") { Description = $"The agent to ask (default: {AgentClient.UrlVariable}, else the agent serving --runs-dir).", Recursive = true };
        var token = new Option<string?>("--token") { Description = $"The agent's auth token (default: {AgentClient.TokenVariable}).", Recursive = true };
        var runsDir = new Option<string?>("--runs-dir") { Description = "The runs folder whose agent to ask.", Recursive = true };
        var json = new Option<bool>("--json") { Description = "Print JSON.", Recursive = true };

        var members = new Command("members", "The pool's members: state, φ, last heartbeat, runs, hardware.");
        members.SetAction(parse =>
        {
            using var agent = Connect(parse.GetValue(agentUrl), parse.GetValue(token), parse.GetValue(runsDir));
            var answer = agent.Get("api/v1/cluster/members");
            if (parse.GetValue(json))
            {
                System.Console.WriteLine(answer.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }
            var console = Terminal.Create();
            if ((bool?)answer["pool"] != true)
                console.MarkupLine("[grey]this agent is not in a pool (agent.cluster.cluster-token and seeds in agent.hocon); it alone:[/]");
            var table = new Table().AddColumns("Member", "State", "φ", "Last heartbeat", "Runs", "Hardware", "URL");
            foreach (var m in (answer["members"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var state = (string?)m["state"] ?? "?";
                var color = state switch { "up" => "green", "unreachable" => "yellow", "down" or "removed" => "red", _ => "grey" };
                var self = (string?)m["id"] == (string?)answer["self"] ? " (this agent)" : "";
                var heartbeat = DateTimeOffset.TryParse((string?)m["last_heartbeat"], out var at) ? $"{(DateTimeOffset.UtcNow - at).TotalSeconds:F1} s ago" : "-";
                table.AddRow(Markup.Escape($"{m["name"]}{self}"), $"[{color}]{state}[/]", Markup.Escape(m["phi"]?.ToString() ?? "-"), heartbeat,
                    $"{m["running"]} running, {m["queued"]} queued", Markup.Escape(Hardware(m["hardware"] as JsonObject)), Markup.Escape((string?)m["url"] ?? ""));
            }
            console.Write(table);
            return 0;
        });

        var model = new Option<string?>("--model") { Description = "Model folder (its config.json)." };
        var parameters = new Option<string?>("--params") { Description = "A published size instead: 0.6B … 32B for qwen3, 1B … 70B for llama." };
        var arch = new Option<string>("--arch") { Description = "Architecture for --params.", DefaultValueFactory = _ => "qwen3" };
        var seqLen = new Option<int>("--seq-len") { Description = "Cutoff length in tokens.", DefaultValueFactory = _ => 1024 };
        var place = new Command("place", "Where in the pool a run of this model would go: each member's best method, ranked, with reasons.") { model, parameters, arch, seqLen };
        place.SetAction(parse =>
        {
            using var agent = Connect(parse.GetValue(agentUrl), parse.GetValue(token), parse.GetValue(runsDir));
            var body = new JsonObject { ["arch"] = parse.GetValue(arch), ["seq_len"] = parse.GetValue(seqLen) };
            if (parse.GetValue(model) is { } m)
                body["model"] = Path.GetFullPath(m);
            if (parse.GetValue(parameters) is { } p)
                body["params"] = p;
            var answer = agent.Post("api/v1/cluster/place", body);
            if (parse.GetValue(json))
            {
                System.Console.WriteLine(answer.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }
            foreach (var reason in (answer["reasons"] as JsonArray ?? []).Select(r => (string?)r))
                System.Console.WriteLine($"• {reason}");
            return answer["chosen"] is null ? 2 : 0;
        });
        var pfModel = new Option<string?>("--model") { Description = "Model folder every worker must hold (same content)." };
        var pfData = new Option<string[]>("--data") { Description = "Data files every worker must hold (same content).", AllowMultipleArgumentsPerToken = true };
        var pfMembers = new Option<string[]>("--members") { Description = "Members to check (default: every member up).", AllowMultipleArgumentsPerToken = true };
        var preflight = new Command("preflight", "Before a distributed run: the same agent, libtorch, shim and plugins everywhere, the same model and data hashes, and the coordinator reachable from each member.")
        {
            pfModel, pfData, pfMembers,
        };
        preflight.SetAction(parse =>
        {
            using var agent = Connect(parse.GetValue(agentUrl), parse.GetValue(token), parse.GetValue(runsDir));
            var body = new JsonObject { ["datasets"] = new JsonArray((parse.GetValue(pfData) ?? []).Select(d => (JsonNode?)Path.GetFullPath(d)).ToArray()) };
            if (parse.GetValue(pfModel) is { } m)
                body["model"] = Path.GetFullPath(m);
            if (parse.GetValue(pfMembers) is { Length: > 0 } names)
                body["members"] = new JsonArray(names.Select(n => (JsonNode?)n).ToArray());
            var answer = agent.Post("api/v1/cluster/preflight", body);
            if (parse.GetValue(json))
                System.Console.WriteLine(answer.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            else if ((bool?)answer["ok"] == true)
                System.Console.WriteLine($"preflight ok: {string.Join(", ", (answer["members"] as JsonObject ?? []).Select(p => p.Key))} match and reach the coordinator");
            else
                foreach (var problem in (answer["problems"] as JsonArray ?? []).Select(p => (string?)p))
                    System.Console.WriteLine($"• {problem}");
            return (bool?)answer["ok"] == true ? 0 : 2;
        });
        return new Command("cluster", "The pool of agents: its members, where a run would be placed, and the checks before a distributed run.") { agentUrl, token, runsDir, json, members, place, preflight };
    }

    private static AgentClient Connect(string? url, string? token, string? runsDir) =>
        AgentClient.Find(url, token, Path.GetFullPath(runsDir ?? RunStore.DefaultFolder))
        ?? throw new ArgumentException("no agent to ask: start one with `fta agent`, or name one with --agent URL");

    private static string Hardware(JsonObject? hw)
    {
        if (hw?["cpu"] is not JsonObject cpu)
            return "-";
        var gpus = (hw["gpus"] as JsonArray ?? []).OfType<JsonObject>().Select(g => $"{g["name"]} {((double?)g["free_memory_bytes"] ?? 0) / 1e9:F0}/{((double?)g["total_memory_bytes"] ?? 0) / 1e9:F0} GB");
        return $"{cpu["logical_cores"]} cores, {((double?)cpu["total_memory_bytes"] ?? 0) / (1L << 30):F0} GiB" + string.Concat(gpus.Select(g => $"; {g}"));
    }
}
