namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// Which row field holds what, as in dataset_info.json's <c>columns</c> (LLaMA-Factory's names and
/// defaults). Alpaca uses prompt, query, response, system, history; ShareGPT uses messages, system,
/// tools. <see cref="Reasoning"/> (ours) holds the final answer's reasoning, rendered as Qwen3's think
/// block; a row without that field has none.
/// </summary>
public sealed record DatasetColumns
{
    public static DatasetColumns Default { get; } = new();

    public string Prompt { get; init; } = "instruction";

    public string Query { get; init; } = "input";

    public string Response { get; init; } = "output";

    public string System { get; init; } = "system";

    public string History { get; init; } = "history";

    /// <summary>The message list; null means <c>conversations</c>, or <c>messages</c> when a row has no <c>conversations</c>.</summary>
    public string? Messages { get; init; }

    public string Tools { get; init; } = "tools";

    public string Reasoning { get; init; } = "reasoning";

    /// <summary>dataset_info.json's key for each property, for parsing and error messages.</summary>
    public static IReadOnlyList<string> Keys { get; } = ["prompt", "query", "response", "system", "history", "messages", "tools", "reasoning"];

    public DatasetColumns With(string key, string value) => key switch
    {
        "prompt" => this with { Prompt = value },
        "query" => this with { Query = value },
        "response" => this with { Response = value },
        "system" => this with { System = value },
        "history" => this with { History = value },
        "messages" => this with { Messages = value },
        "tools" => this with { Tools = value },
        "reasoning" => this with { Reasoning = value },
        _ => throw new ArgumentException($"unknown column key '{key}' (known: {string.Join(", ", Keys)})", nameof(key)),
    };
}
