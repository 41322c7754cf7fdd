using FineTuneAgent.Core.Evaluation;

namespace FineTuneAgent.Agent.Stages;

/// <summary>
/// EvaluatorStage: evaluate <see cref="Request"/> (base, and tuned when it names an adapter); with <see cref="RunId"/>,
/// store the results with that run (eval.json in its output folder, referenced from run.json).
/// </summary>
public sealed record StartEvaluation(EvaluationRequest Request, string? RunId = null);

/// <summary>EvaluatorStage's answer when the evaluation finished (otherwise: <see cref="FineTuneAgent.Actors.Status.Failure"/> with the exception).</summary>
/// <param name="SavedTo">The eval.json written for the run, when a run was named.</param>
public sealed record EvaluationFinished(EvaluationResult Result, string? SavedTo);

/// <summary>Stop the evaluation between batches or prompts (the answer is a failure with an OperationCanceledException).</summary>
public sealed record CancelEvaluation
{
    public static CancelEvaluation Instance { get; } = new();
}
