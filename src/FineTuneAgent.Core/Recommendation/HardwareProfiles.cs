using FineTuneAgent.Abstractions;
using FineTuneAgent.Core.Config;
using FineTuneAgent.Core.Config.Hocon;

namespace FineTuneAgent.Core.Recommendation;

/// <summary>
/// The profiles in a folder (one HOCON file each, `profile { ... }`; `profiles/` beside fta, or FTA_PROFILES_DIR),
/// bound with the config binder: a wrong type or a missing name is an error naming file, path and position.
/// </summary>
public static class HardwareProfiles
{
    public static string DefaultFolder =>
        Environment.GetEnvironmentVariable("FTA_PROFILES_DIR") is { Length: > 0 } dir ? dir : Path.Combine(AppContext.BaseDirectory, "profiles");

    public static IReadOnlyList<HardwareProfile> Load(string folder)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"{folder}: no profiles folder (the profiles/ folder beside fta, or FTA_PROFILES_DIR)");
        var profiles = Directory.GetFiles(folder, "*.hocon").Order(StringComparer.Ordinal).Select(LoadFile).ToList();
        var duplicate = profiles.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new InvalidDataException($"{folder}: more than one profile is named \"{duplicate.Key}\"");
        return profiles;
    }

    public static HardwareProfile LoadFile(string path)
    {
        var root = HoconReader.ParseFile(path);
        var binder = new ConfigBinder();
        binder.WarnAboutUnknownKeys(root, ["profile"]);
        var profile = binder.Bind<HardwareProfile>(root, "profile");
        var problems = binder.Errors.Concat(binder.Warnings).Select(p => p.ToString()).ToList();
        if (string.IsNullOrWhiteSpace(profile.Name))
            problems.Add("profile.name: missing");
        if (profile.Device.Memory <= 0)
            problems.Add("profile.device.memory: missing (a size such as 24GiB)");
        if (profile.Device.Free > profile.Device.Memory)
            problems.Add("profile.device.free: more than profile.device.memory");
        if (profile.Workstations < 1)
            problems.Add($"profile.workstations: must be at least 1, got {profile.Workstations}");
        if (problems.Count > 0)
            throw new InvalidDataException($"{path}: {string.Join("; ", problems)}");
        return profile;
    }

    /// <summary>The profile called <paramref name="name"/>; an unknown name lists the others with a suggestion.</summary>
    public static HardwareProfile Named(IReadOnlyList<HardwareProfile> profiles, string name) =>
        profiles.FirstOrDefault(p => p.Name == name)
        ?? throw new ArgumentException($"no profile named \"{name}\"{Spelling.DidYouMean(name, profiles.Select(p => p.Name).ToList())}; profiles: {string.Join(", ", profiles.Select(p => p.Name))}");
}
