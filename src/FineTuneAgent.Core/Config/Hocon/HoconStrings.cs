namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>Writing a string as a JSON (and so HOCON) quoted string.</summary>
internal static class HoconStrings
{
    /// <summary>HOCON's quoted strings are JSON's: the chat templates' JSON writer already writes them.</summary>
    public static string Quote(string s) => Modeling.Chat.PythonJson.DumpsString(s);
}
