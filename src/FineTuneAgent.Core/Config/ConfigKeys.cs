using System.Text;

namespace FineTuneAgent.Core.Config;

/// <summary>
/// How C# names map to HOCON keys: kebab-case, as the HOCON spec encourages ("hyphen-separated
/// rather than camelCase"). <c>MaxRequestBodySize</c> is <c>max-request-body-size</c>,
/// <c>Bf16</c> is <c>bf16</c>; enum members map the same way (<c>Warning</c> is <c>warning</c>).
/// snake_case keys are not accepted: one spelling per setting keeps typos detectable.
/// </summary>
public static class ConfigKeys
{
    public static string KebabCase(string pascal)
    {
        var sb = new StringBuilder(pascal.Length + 4);
        for (var i = 0; i < pascal.Length; i++)
        {
            var c = pascal[i];
            var boundary = i > 0 && char.IsUpper(c)
                && (char.IsLower(pascal[i - 1]) || char.IsDigit(pascal[i - 1]) || (i + 1 < pascal.Length && char.IsLower(pascal[i + 1])));
            if (boundary)
                sb.Append('-');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }
}
