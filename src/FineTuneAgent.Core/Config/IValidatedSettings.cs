namespace FineTuneAgent.Core.Config;

/// <summary>
/// Settings that check themselves once bound: each problem names the key (kebab-case, as in the
/// file) so the binder can report it with the full path and the value's position.
/// </summary>
public interface IValidatedSettings
{
    IEnumerable<(string Key, string Message)> Validate();
}
