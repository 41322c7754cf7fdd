using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Abstractions.Templates;

namespace FineTuneAgent.Core.Plugins;

/// <summary>
/// Loads one build of a plugin folder (&lt;dir&gt;/&lt;Name&gt;/&lt;Name&gt;.dll) into a fresh
/// collectible context and creates one instance of every IModelTemplate and IFineTuneMethod it
/// holds. A build loads whole or not at all: any type that fails to load or construct fails the
/// build, and its context is unloaded at once.
/// </summary>
internal static class PluginLoader
{
    public static bool TryLoad(string folder, string fingerprint, int number,
        [NotNullWhen(true)] out PluginGeneration? generation, [NotNullWhen(false)] out PluginLoadFailure? failure)
    {
        generation = null;
        var name = Path.GetFileName(folder);
        var assemblyPath = Path.Combine(folder, name + ".dll");
        if (!File.Exists(assemblyPath))
        {
            failure = new PluginLoadFailure($"{name}.dll not found");
            return false;
        }
        PluginLoadContext? context = null;
        string? version = null;
        try
        {
            context = new PluginLoadContext(assemblyPath, $"{name}#{number}");
            var assembly = context.LoadPlugin();
            version = VersionOf(assembly);
            var errors = new List<string>();
            var implementations = Instantiate(assembly, errors);
            failure = errors.Count > 0 ? new PluginLoadFailure(string.Join("; ", errors), version)
                : implementations.Count == 0 ? new PluginLoadFailure($"no implementations of {nameof(IModelTemplate)} or {nameof(IFineTuneMethod)}", version, NoImplementations: true)
                : null;
            if (failure is null)
            {
                generation = new PluginGeneration(context, folder, version, fingerprint, implementations);
                return true;
            }
        }
        // A plugin is foreign code: whatever loading it throws (a bad image, a missing dependency,
        // a malformed deps.json) is that plugin's failure, reported, never the host's.
        catch (Exception e)
        {
            failure = new PluginLoadFailure(Describe(e), version);
        }
        context?.Unload();
        return false;
    }

    /// <summary>The assembly's informational version (the project's Version), else its assembly version.</summary>
    public static string VersionOf(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? assembly.GetName().Version?.ToString()
        ?? "unknown";

    private static List<PluginImplementation> Instantiate(Assembly assembly, List<string> errors)
    {
        Type[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            // A type built against another contract version does not load: name each such type.
            errors.AddRange(e.LoaderExceptions.OfType<Exception>().Select(x => x.Message).Distinct());
            return [];
        }
        var implementations = new List<PluginImplementation>();
        foreach (var type in types.Where(IsImplementation).OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            try
            {
                var instance = Activator.CreateInstance(type)!;
                if (instance is IModelTemplate template)
                    implementations.Add(new PluginImplementation(NameOf(template.Name, type), PluginKind.Template, instance));
                if (instance is IFineTuneMethod method)
                    implementations.Add(new PluginImplementation(NameOf(method.Name, type), PluginKind.Method, instance));
            }
            catch (Exception e)
            {
                errors.Add($"{type.FullName}: {Describe(e, constructing: true)}");
            }
        }
        return implementations;
    }

    private static bool IsImplementation(Type type) =>
        type is { IsAbstract: false, IsInterface: false, ContainsGenericParameters: false }
        && (typeof(IModelTemplate).IsAssignableFrom(type) || typeof(IFineTuneMethod).IsAssignableFrom(type));

    private static string NameOf(string? name, Type type) =>
        string.IsNullOrWhiteSpace(name) ? throw new InvalidDataException($"{type.FullName}.Name is empty") : name;

    /// <summary>
    /// What went wrong, as the plugin's own exception rather than reflection's wrappers. An
    /// exception that reflection wrapped while constructing came from the plugin's constructor.
    /// </summary>
    private static string Describe(Exception e, bool constructing = false)
    {
        var wrapped = false;
        while (e is TargetInvocationException { InnerException: { } inner })
        {
            e = inner;
            wrapped = true;
        }
        if (e is BadImageFormatException)
            return $"not a valid .NET assembly ({e.GetType().Name}: {e.Message})";
        if (e is TypeInitializationException { InnerException: { } init })
            return $"type initializer threw {init.GetType().Name}: {init.Message}";
        return constructing && wrapped ? $"constructor threw {e.GetType().Name}: {e.Message}" : $"{e.GetType().Name}: {e.Message}";
    }
}
