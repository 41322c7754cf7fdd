using FineTuneAgent.Modeling.Chat;

namespace FineTuneAgent.Core.Datasets;

/// <summary>A row understood as a conversation, with where it came from.</summary>
public sealed record DatasetExample(Conversation Conversation, SourceLocation At);
