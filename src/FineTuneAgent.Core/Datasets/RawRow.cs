using System.Text.Json;

namespace FineTuneAgent.Core.Datasets;

/// <summary>A row as read from a file, before it is understood: its JSON value and where it starts.</summary>
public readonly record struct RawRow(JsonElement Value, SourceLocation At);
