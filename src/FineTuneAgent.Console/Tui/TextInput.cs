namespace FineTuneAgent.Console.Tui;

/// <summary>A one-line text field: printable keys insert at the end, Backspace deletes, Ctrl+U clears.</summary>
internal sealed class TextInput(string initial = "")
{
    public string Text { get; private set; } = initial;

    public void Clear() => Text = "";

    public void Set(string text) => Text = text;

    /// <summary>Applies the key; false when it is not an editing key.</summary>
    public bool Handle(ConsoleKeyInfo key)
    {
        if (key.Key == ConsoleKey.Backspace)
        {
            if (Text.Length > 0)
                Text = Text[..^1];
            return true;
        }
        if (key.Key == ConsoleKey.U && key.Modifiers.HasFlag(ConsoleModifiers.Control))
        {
            Text = "";
            return true;
        }
        if (!char.IsControl(key.KeyChar))
        {
            Text += key.KeyChar;
            return true;
        }
        return false;
    }
}
