namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// A tokenizer file could not be loaded. The message names the file and, where there is one, the
/// component (as a JSON path such as <c>pre_tokenizer.pretokenizers[0]</c>); <see cref="Error"/>
/// says what kind of problem it is, so callers decide on data rather than message text.
/// </summary>
public sealed class TokenizerLoadException : Exception
{
    public TokenizerLoadException(TokenizerLoadError error, string filePath, string? component, string message,
        Exception? innerException = null)
        : base(Format(filePath, component, message), innerException)
    {
        Error = error;
        FilePath = filePath;
        Component = component;
    }

    public TokenizerLoadError Error { get; }

    /// <summary>The file being loaded.</summary>
    public string FilePath { get; }

    /// <summary>JSON path of the offending component or field, when the problem has one.</summary>
    public string? Component { get; }

    /// <summary>True when the file uses something we do not implement (as opposed to being broken).</summary>
    public bool IsUnsupported => Error == TokenizerLoadError.Unsupported;

    private static string Format(string filePath, string? component, string message) =>
        component is null ? $"{filePath}: {message}" : $"{filePath}: {component}: {message}";
}
