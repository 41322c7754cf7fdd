namespace FineTuneAgent.Modeling.Config;

/// <summary>A config.json (or generation_config.json) the agent cannot use; the message names the file and field.</summary>
public sealed class ModelConfigException(string message) : Exception(message);
