namespace FineTuneAgent.Core.History;

/// <summary>What a run's metrics say in a line: steps done, first and last training loss, last and best validation loss, retries.</summary>
public sealed record HistoryRunStats(int Steps, double? FirstTrainLoss, double? LastTrainLoss, double? LastEvalLoss, double? BestEvalLoss, int Retries);
