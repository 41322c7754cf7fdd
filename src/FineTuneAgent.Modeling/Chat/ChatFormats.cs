namespace FineTuneAgent.Modeling.Chat;

/// <summary>The chat formats by name.</summary>
public static class ChatFormats
{
    public static IChatFormat Qwen3 { get; } = new Qwen3ChatFormat();

    public static IChatFormat Llama3 { get; } = new Llama3ChatFormat();

    public static IChatFormat Llama30 { get; } = new Llama30ChatFormat();

    public static IChatFormat Llama2 { get; } = new Llama2ChatFormat();

    public static IReadOnlyList<IChatFormat> All { get; } = [Qwen3, Llama3, Llama30, Llama2];

    public static IChatFormat Get(string name) =>
        All.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown chat format '{name}' (known: {string.Join(", ", All.Select(f => f.Name))})", nameof(name));
}
