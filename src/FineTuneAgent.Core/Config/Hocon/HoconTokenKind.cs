namespace FineTuneAgent.Core.Config.Hocon;

internal enum HoconTokenKind
{
    OpenBrace,
    CloseBrace,
    OpenBracket,
    CloseBracket,
    Comma,
    Colon,
    Equals,
    PlusEquals,
    /// <summary>An ASCII newline: a separator between fields and array elements.</summary>
    Newline,
    /// <summary>Non-newline whitespace: kept, because it is part of a value concatenation.</summary>
    Whitespace,
    QuotedString,
    UnquotedString,
    Number,
    True,
    False,
    Null,
    Substitution,
    End,
}
