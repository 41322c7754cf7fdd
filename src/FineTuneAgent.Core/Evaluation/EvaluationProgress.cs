namespace FineTuneAgent.Core.Evaluation;

/// <summary>
/// What the evaluator is doing: <see cref="Model"/> is "base" or "tuned" (null for setup messages), <see cref="Phase"/>
/// one of setup, validation, general-text, generation; <see cref="Done"/> of <see cref="Total"/> rows or prompts.
/// </summary>
public sealed record EvaluationProgress(string? Model, string Phase, string Message, int Done = 0, int Total = 0);
