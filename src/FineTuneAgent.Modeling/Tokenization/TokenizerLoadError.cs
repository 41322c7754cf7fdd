namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>Why a tokenizer could not be loaded.</summary>
public enum TokenizerLoadError
{
    /// <summary>The file does not exist or cannot be read.</summary>
    FileNotFound,
    /// <summary>The file is not valid JSON.</summary>
    MalformedJson,
    /// <summary>The file is valid but uses a model type or component we do not implement.</summary>
    Unsupported,
    /// <summary>The file is valid JSON but a field is missing or has the wrong shape.</summary>
    Invalid,
}
