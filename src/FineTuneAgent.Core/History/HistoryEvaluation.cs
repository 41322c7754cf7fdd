using System.Text.Json.Nodes;

namespace FineTuneAgent.Core.History;

/// <summary>One row of <c>evaluations</c>: an evaluation's results (<c>EvaluationResult</c> as JSON) and the file they came from.</summary>
public sealed record HistoryEvaluation(long Id, string RunId, DateTimeOffset CreatedAt, string? Source, JsonObject Results);
