namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>
/// One token. <see cref="Text"/> is the decoded value of a quoted string and the text as written
/// for everything else (numbers keep their spelling: value concatenation and paths need it).
/// A substitution carries its parsed path.
/// </summary>
internal sealed record HoconToken(HoconTokenKind Kind, string Text, HoconPosition Position)
{
    public IReadOnlyList<string>? SubstitutionPath { get; init; }

    public bool OptionalSubstitution { get; init; }

    /// <summary>A token that can be part of a key (a path expression).</summary>
    public bool IsKeyPart => Kind is HoconTokenKind.QuotedString or HoconTokenKind.UnquotedString or HoconTokenKind.Number
        or HoconTokenKind.True or HoconTokenKind.False or HoconTokenKind.Null;

    /// <summary>How the token reads in an error message.</summary>
    public string Describe() => Kind switch
    {
        HoconTokenKind.End => "the end of the file",
        HoconTokenKind.Newline => "a new line",
        HoconTokenKind.QuotedString => $"\"{Text}\"",
        HoconTokenKind.Substitution => $"${{{HoconPath.Render(SubstitutionPath!)}}}",
        _ => $"'{Text}'",
    };
}
