namespace FineTuneAgent.Core.Export;

/// <summary>An export that cannot be made as asked (no PEFT adapter for a Full run, an output that already exists, a run with no final adapter); the message says what to do instead.</summary>
public sealed class ExportException(string message, Exception? inner = null) : Exception(message, inner);
