namespace FineTuneAgent.Core.Hardware;

/// <summary>A set-up mistake the probe found, with the fix spelled out.</summary>
public sealed record SetupProblem(string Code, string Problem, string Fix);
