namespace FineTuneAgent.Modeling.Checkpoints;

/// <summary>A checkpoint the model cannot be built from; the message names the file and tensor.</summary>
public sealed class CheckpointException(string message, Exception? inner = null) : Exception(message, inner);
