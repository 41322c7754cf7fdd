namespace FineTuneAgent.Torch;

/// <summary>
/// A safetensors file or index that cannot be read as asked: a malformed or truncated file, an
/// index that disagrees with its shards, a dtype this binding cannot hold. The message always
/// starts with the file's path, and names the tensor where one is at fault, so a user can find
/// the culprit without a debugger.
/// </summary>
public sealed class SafetensorsException : FormatException
{
    public SafetensorsException(string path, string? tensorName, string problem, Exception? inner = null)
        : base(Compose(path, tensorName, problem), inner)
    {
        Path = path;
        TensorName = tensorName;
        Problem = problem;
    }

    /// <summary>The file (safetensors or index JSON) at fault.</summary>
    public string Path { get; }

    /// <summary>The tensor at fault, when the problem is one tensor's.</summary>
    public string? TensorName { get; }

    /// <summary>What is wrong, without the path and tensor prefix.</summary>
    public string Problem { get; }

    private static string Compose(string path, string? tensorName, string problem) =>
        tensorName is null ? $"{path}: {problem}" : $"{path}: tensor '{tensorName}': {problem}";
}
