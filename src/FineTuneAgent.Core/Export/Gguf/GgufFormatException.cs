namespace FineTuneAgent.Core.Export.Gguf;

/// <summary>A GGUF file that is truncated, corrupt or not GGUF; the message names the file, the byte offset and the field.</summary>
public sealed class GgufFormatException(string message, Exception? inner = null) : Exception(message, inner);
