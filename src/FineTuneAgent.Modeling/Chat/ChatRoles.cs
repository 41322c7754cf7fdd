namespace FineTuneAgent.Modeling.Chat;

/// <summary>The message roles a <see cref="Conversation"/> may use, spelled as in HF chat data.</summary>
public static class ChatRoles
{
    public const string System = "system";
    public const string User = "user";
    public const string Assistant = "assistant";
    public const string Tool = "tool";

    public static IReadOnlyList<string> All { get; } = [System, User, Assistant, Tool];

    public static bool IsKnown(string? role) => role is System or User or Assistant or Tool;
}
