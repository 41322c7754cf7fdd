using FineTuneAgent.Modeling.Chat;

namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// Drops rows a model should not learn from: an empty or whitespace-only prompt or answer, and
/// duplicates, exact or after normalization (<see cref="ConversationKey"/>). Duplicates are found across
/// every dataset of a run, in the order the datasets are given; the first occurrence stays.
/// </summary>
internal sealed class ConversationCleaner(bool deduplicate)
{
    private readonly HashSet<string> _exact = new(StringComparer.Ordinal);
    private readonly HashSet<string> _normalized = new(StringComparer.Ordinal);

    /// <summary>Why the example must go, or null when it stays (and is remembered for later duplicates).</summary>
    public DropReason? Check(Conversation conversation)
    {
        foreach (var m in conversation.Messages)
        {
            if (m.Role == ChatRoles.User && string.IsNullOrWhiteSpace(m.Content))
                return DropReason.EmptyPrompt;
            if (m.Role == ChatRoles.Assistant && m.ToolCalls.Count == 0 && string.IsNullOrWhiteSpace(m.Content))
                return DropReason.EmptyAnswer;
        }
        if (!deduplicate)
            return null;
        var exact = ConversationKey.Exact(conversation);
        if (!_exact.Add(exact))
            return DropReason.ExactDuplicate;
        if (!_normalized.Add(ConversationKey.Normalized(conversation)))
            return DropReason.NormalizedDuplicate;
        return null;
    }
}
