namespace FineTuneAgent.Console;

/// <summary>
/// Failures caused by what the user gave (a bad file, a wrong option, a model that does not
/// load): reported as one clear line, not a stack trace. Anything else is a bug and keeps its trace.
/// </summary>
internal static class UserError
{
    public static bool IsUserError(Exception e) => e is ArgumentException or IOException or FormatException or KeyNotFoundException
        or UnauthorizedAccessException or InvalidDataException or AgentRequestException
        or FineTuneAgent.Modeling.Config.ModelConfigException or FineTuneAgent.Modeling.Checkpoints.CheckpointException
        or FineTuneAgent.Torch.TorchException or FineTuneAgent.Modeling.Tokenization.TokenizerLoadException
        or FineTuneAgent.Modeling.Chat.ChatFormatException or FineTuneAgent.Abstractions.Methods.MethodSettingsException
        or FineTuneAgent.Core.Datasets.DatasetException or FineTuneAgent.Core.Training.TrainingDivergedException
        or FineTuneAgent.Core.Training.TrainingOutOfMemoryException or FineTuneAgent.Core.Export.ExportException or FineTuneAgent.Core.Export.Gguf.GgufFormatException;
}
