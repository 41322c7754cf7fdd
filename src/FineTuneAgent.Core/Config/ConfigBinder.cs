using System.Reflection;
using FineTuneAgent.Abstractions;
using FineTuneAgent.Core.Config.Hocon;

namespace FineTuneAgent.Core.Config;

/// <summary>
/// Maps a resolved HOCON object onto a settings class: each public settable property is the
/// kebab-case key of its name (<see cref="ConfigKeys"/>); a key the file does not set keeps the
/// property's default. Supported types: string, bool, int, long, double, TimeSpan (a duration:
/// "30s", or a number of milliseconds), long with <see cref="SizeInBytesAttribute"/> (a size:
/// "16MiB"), enums (kebab-case member names), lists/arrays of those, and nested settings classes.
/// Null is accepted only where the property is nullable.
///
/// Nothing throws on the way: unknown keys become <see cref="Warnings"/> (with a "did you mean"),
/// wrong types and failed validation become <see cref="Errors"/>, each with the full path and the
/// value's position, so one pass reports every problem.
/// </summary>
public sealed class ConfigBinder
{
    private readonly List<ConfigProblem> _warnings = [];
    private readonly List<ConfigProblem> _errors = [];
    private readonly NullabilityInfoContext _nullability = new();

    public IReadOnlyList<ConfigProblem> Warnings => _warnings;

    public IReadOnlyList<ConfigProblem> Errors => _errors;

    /// <summary>The settings at <paramref name="path"/> in <paramref name="root"/>; all defaults when the path is not set.</summary>
    public T Bind<T>(HoconObject root, string path) where T : class, new()
    {
        if (!root.TryGetValue(path, out var value))
            return (T)BindObject(typeof(T), null, path);
        if (value is HoconObject o)
            return (T)BindObject(typeof(T), o, path);
        _errors.Add(new ConfigProblem(path, $"expected an object, got {value.Describe()}", value.Position));
        return new T();
    }

    /// <summary>Warns about each key of <paramref name="source"/> that is not one of <paramref name="known"/> (for a root that holds several sections).</summary>
    public void WarnAboutUnknownKeys(HoconObject source, IReadOnlyCollection<string> known, string? path = null)
    {
        foreach (var (key, value) in source.Fields)
        {
            if (!known.Contains(key))
                _warnings.Add(new ConfigProblem(Join(path, key), "unknown setting" + Spelling.DidYouMean(key, known), value.Position));
        }
    }

    /// <summary>The keys a settings class reads.</summary>
    public static IReadOnlyDictionary<string, PropertyInfo> KeysOf(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.GetIndexParameters().Length == 0)
            .ToDictionary(p => ConfigKeys.KebabCase(p.Name));

    private object BindObject(Type type, HoconObject? source, string path)
    {
        var instance = Activator.CreateInstance(type)
            ?? throw new InvalidOperationException($"{type.Name} needs a public parameterless constructor to be bound");
        var properties = KeysOf(type);
        if (source is not null)
        {
            WarnAboutUnknownKeys(source, properties.Keys.ToList(), path);
            foreach (var (key, value) in source.Fields)
            {
                if (properties.TryGetValue(key, out var property) && TryConvertProperty(property, value, Join(path, key), out var converted))
                    property.SetValue(instance, converted);
            }
        }
        if (instance is IValidatedSettings validated)
        {
            foreach (var (key, message) in validated.Validate())
                _errors.Add(new ConfigProblem(Join(path, key), message, source?[key]?.Position ?? source?.Position));
        }
        return instance;
    }

    private bool TryConvertProperty(PropertyInfo property, HoconValue value, string path, out object? result)
    {
        var type = property.PropertyType;
        var underlying = Nullable.GetUnderlyingType(type);
        if (value.Type == HoconValueType.Null)
        {
            result = null;
            if (underlying is not null || (!type.IsValueType && _nullability.Create(property).WriteState == NullabilityState.Nullable))
                return true;
            _errors.Add(new ConfigProblem(path, $"expected {Expected(type, property)}, got null", value.Position));
            return false;
        }
        return TryConvert(underlying ?? type, property.IsDefined(typeof(SizeInBytesAttribute)), value, path, out result);
    }

    private bool TryConvert(Type type, bool isSize, HoconValue value, string path, out object? result)
    {
        result = null;
        if (ElementType(type) is { } element)
            return TryList(type, element, isSize, value, path, out result);
        (bool Ok, object? Value, string Problem) converted;
        if (Scalar(type, isSize, value) is { } scalar)
            converted = scalar;
        else if (type.IsClass && type.GetConstructor(Type.EmptyTypes) is not null)
            converted = value is HoconObject o ? (true, BindObject(type, o, path), "") : (false, null, $"expected an object, got {value.Describe()}");
        else
            throw new InvalidOperationException($"settings of type {type.Name} ({path}) are not supported by the binder");
        if (!converted.Ok)
            _errors.Add(new ConfigProblem(path, converted.Problem, value.Position));
        result = converted.Value;
        return converted.Ok;
    }

    /// <summary>A string, bool, number, duration, size or enum; null when <paramref name="type"/> is none of those.</summary>
    private static (bool, object?, string)? Scalar(Type type, bool isSize, HoconValue value)
    {
        string problem;
        if (type == typeof(string))
            return (HoconConversions.TryString(value, out var s, out problem), s, problem);
        if (type == typeof(bool))
            return (HoconConversions.TryBoolean(value, out var b, out problem), b, problem);
        if (type == typeof(int))
            return (HoconConversions.TryWhole(value, int.MinValue, int.MaxValue, out var i, out problem), (int)i, problem);
        if (type == typeof(long))
        {
            return isSize
                ? (HoconConversions.TryBytes(value, out var bytes, out problem), bytes, problem)
                : (HoconConversions.TryInt64(value, out var l, out problem), l, problem);
        }
        if (type == typeof(double))
            return (HoconConversions.TryDouble(value, out var d, out problem), d, problem);
        if (type == typeof(TimeSpan))
            return (HoconConversions.TryDuration(value, out var t, out problem), t, problem);
        if (type.IsEnum)
            return TryEnum(type, value);
        return null;
    }

    private static (bool, object?, string) TryEnum(Type type, HoconValue value)
    {
        var names = Enum.GetNames(type).ToDictionary(ConfigKeys.KebabCase, n => n);
        if (HoconConversions.TryString(value, out var text, out _)
            && names.Keys.FirstOrDefault(k => string.Equals(k, text, StringComparison.OrdinalIgnoreCase)) is { } key)
            return (true, Enum.Parse(type, names[key]), "");
        var hint = HoconConversions.TryString(value, out text, out _) ? Spelling.DidYouMean(text, names.Keys) : "";
        return (false, null, $"expected one of {string.Join(", ", names.Keys)}, got {value.Describe()}{hint}");
    }

    private bool TryList(Type listType, Type element, bool isSize, HoconValue value, string path, out object? result)
    {
        result = null;
        if (value is not HoconArray array)
        {
            _errors.Add(new ConfigProblem(path, $"expected an array, got {value.Describe()}", value.Position));
            return false;
        }
        var items = Array.CreateInstance(element, array.Items.Count);
        var ok = true;
        for (var i = 0; i < array.Items.Count; i++)
        {
            if (TryConvert(element, isSize, array.Items[i], $"{path}[{i}]", out var item))
                items.SetValue(item, i);
            else
                ok = false;
        }
        result = listType.IsArray ? items : Activator.CreateInstance(typeof(List<>).MakeGenericType(element), items);
        return ok;
    }

    /// <summary>The element type of T[], List&lt;T&gt;, IReadOnlyList&lt;T&gt;, IList&lt;T&gt; or IEnumerable&lt;T&gt;.</summary>
    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
            return type.GetElementType();
        if (!type.IsGenericType)
            return null;
        var definition = type.GetGenericTypeDefinition();
        return definition == typeof(List<>) || definition == typeof(IReadOnlyList<>) || definition == typeof(IList<>)
            || definition == typeof(IEnumerable<>) || definition == typeof(IReadOnlyCollection<>)
            ? type.GetGenericArguments()[0]
            : null;
    }

    private static string Expected(Type type, PropertyInfo property)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t == typeof(string) ? "a string"
            : t == typeof(bool) ? "a boolean"
            : t == typeof(TimeSpan) ? "a duration"
            : property.IsDefined(typeof(SizeInBytesAttribute)) ? "a size in bytes"
            : t == typeof(int) || t == typeof(long) || t == typeof(double) ? "a number"
            : ElementType(t) is not null ? "an array"
            : t.IsEnum ? "one of " + string.Join(", ", Enum.GetNames(t).Select(ConfigKeys.KebabCase))
            : "an object";
    }

    private static string Join(string? path, string key) =>
        string.IsNullOrEmpty(path) ? HoconPath.Render([key]) : $"{path}.{HoconPath.Render([key])}";
}
