namespace FineTuneAgent.Modeling.Chat;

/// <summary>A conversation a chat format cannot render; <see cref="MessageIndex"/> names the culprit when there is one.</summary>
public sealed class ChatFormatException(string message, int? messageIndex = null) : Exception(message)
{
    public int? MessageIndex { get; } = messageIndex;
}
