namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// How ShareGPT messages spell roles, as in dataset_info.json's <c>tags</c> (LLaMA-Factory's names
/// and defaults). <see cref="RoleTag"/>/<see cref="ContentTag"/> null means: from/value when a message
/// has <c>from</c>, else role/content. Whatever the tags, the OpenAI role names (user, assistant,
/// system, tool) are accepted too, so <c>messages</c> data needs no tags.
/// </summary>
public sealed record DatasetTags
{
    public static DatasetTags Default { get; } = new();

    public string? RoleTag { get; init; }

    public string? ContentTag { get; init; }

    public string UserTag { get; init; } = "human";

    public string AssistantTag { get; init; } = "gpt";

    public string ObservationTag { get; init; } = "observation";

    public string FunctionTag { get; init; } = "function_call";

    public string SystemTag { get; init; } = "system";

    /// <summary>A message's own reasoning field (ours), rendered as Qwen3's think block.</summary>
    public string ReasoningTag { get; init; } = "reasoning_content";

    public static IReadOnlyList<string> Keys { get; } =
        ["role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag", "function_tag", "system_tag", "reasoning_tag"];

    public DatasetTags With(string key, string value) => key switch
    {
        "role_tag" => this with { RoleTag = value },
        "content_tag" => this with { ContentTag = value },
        "user_tag" => this with { UserTag = value },
        "assistant_tag" => this with { AssistantTag = value },
        "observation_tag" => this with { ObservationTag = value },
        "function_tag" => this with { FunctionTag = value },
        "system_tag" => this with { SystemTag = value },
        "reasoning_tag" => this with { ReasoningTag = value },
        _ => throw new ArgumentException($"unknown tag key '{key}' (known: {string.Join(", ", Keys)})", nameof(key)),
    };
}
