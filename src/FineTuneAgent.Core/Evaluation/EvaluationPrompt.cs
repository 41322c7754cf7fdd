using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Modeling.Chat;

namespace FineTuneAgent.Core.Evaluation;

/// <summary>A held-out row as a generation task: the conversation up to its last assistant turn, and that turn's text as the reference.</summary>
public sealed record EvaluationPrompt(Conversation Prompt, string Reference, SourceLocation At);
