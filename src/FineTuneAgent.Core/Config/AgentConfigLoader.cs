using FineTuneAgent.Core.Config.Hocon;

namespace FineTuneAgent.Core.Config;

/// <summary>
/// Loads agent.hocon as Lightbend's libraries load application.conf over reference.conf: the
/// repository's agent.hocon, built into this assembly, is resolved first (with its ${?ENV}
/// overrides) and the user's file is read over it, so a user's file need set only what it
/// changes and may refer to the defaults. Which file: the one given, else $FTA_CONFIG, else
/// ./agent.hocon when there is one, else none (the built-in defaults alone).
/// </summary>
public static class AgentConfigLoader
{
    public const string FileName = "agent.hocon";
    public const string FileVariable = "FTA_CONFIG";
    public const string BuiltInOrigin = "agent.hocon (built-in)";

    /// <summary>The built-in agent.hocon.</summary>
    public static string BuiltInText { get; } = ReadBuiltIn();

    /// <summary>The file to read over the defaults, or null for none. A file named explicitly must exist.</summary>
    public static string? FindFile(string? file, Func<string, string?> environment, string workingDirectory)
    {
        var named = file ?? (environment(FileVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null);
        if (named is not null)
        {
            return File.Exists(named)
                ? named
                : throw new FileNotFoundException($"configuration file {named} not found{(file is null ? $" (from {FileVariable})" : "")}", named);
        }
        var local = Path.Combine(workingDirectory, FileName);
        // Shown relative to the working folder, as the user would type it ("agent.hocon").
        return File.Exists(local) ? Path.GetRelativePath(Directory.GetCurrentDirectory(), local) : null;
    }

    /// <summary>
    /// Reads and binds the configuration. Unknown keys come back as warnings; wrong types and
    /// invalid values throw <see cref="ConfigException"/> with all of them; bad syntax throws
    /// <see cref="HoconException"/>.
    /// </summary>
    public static LoadedAgentConfig Load(string? file = null, Func<string, string?>? environment = null, string? workingDirectory = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var source = FindFile(file, environment, workingDirectory ?? Directory.GetCurrentDirectory());
        var defaults = HoconReader.Parse(BuiltInText, BuiltInOrigin, new HoconOptions { EnvironmentVariable = environment });
        var tree = source is null
            ? defaults
            : HoconReader.ParseFile(source, new HoconOptions { EnvironmentVariable = environment, Fallback = defaults });
        var binder = new ConfigBinder();
        binder.WarnAboutUnknownKeys(tree, ["agent"]);
        var settings = binder.Bind<AgentSettings>(tree, "agent");
        if (binder.Errors.Count > 0)
            throw new ConfigException(binder.Errors, binder.Warnings);
        return new LoadedAgentConfig(settings, tree, source, binder.Warnings);
    }

    private static string ReadBuiltIn()
    {
        using var stream = typeof(AgentConfigLoader).Assembly.GetManifestResourceStream("FineTuneAgent.Core.Config.agent.hocon")
            ?? throw new InvalidOperationException("the built-in agent.hocon is missing from FineTuneAgent.Core");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
