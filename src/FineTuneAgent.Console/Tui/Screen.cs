using Spectre.Console;

namespace FineTuneAgent.Console.Tui;

/// <summary>What a key press does to the console's stack of screens.</summary>
internal abstract record ScreenAction
{
    public static ScreenAction Stay { get; } = new StayAction();

    public static ScreenAction Back { get; } = new BackAction();

    public static ScreenAction Quit { get; } = new QuitAction();

    public sealed record StayAction : ScreenAction;

    public sealed record BackAction : ScreenAction;

    public sealed record QuitAction : ScreenAction;

    /// <summary>Opens <see cref="Screen"/> over the current one (Esc comes back).</summary>
    public sealed record Open(Screen Screen) : ScreenAction;

    /// <summary>Replaces the current screen (the wizard, once the run started, by the run's view).</summary>
    public sealed record Replace(Screen Screen) : ScreenAction;
}

/// <summary>
/// One full-screen view of the console. It draws itself as markup lines for a given size (the frame adds the title
/// bar and the key hints), and handles the keys it names in <see cref="Keys"/>.
/// </summary>
internal abstract class Screen
{
    public abstract string Title { get; }

    /// <summary>The key hints shown at the bottom, e.g. "↑↓ select · Enter open · q quit".</summary>
    public abstract string Keys { get; }

    /// <summary>Exactly the lines to show (at most <paramref name="height"/>, each at most <paramref name="width"/> cells), as Spectre markup.</summary>
    public abstract IReadOnlyList<string> Render(ConsoleData data, int width, int height);

    public abstract ScreenAction Handle(ConsoleKeyInfo key, ConsoleData data);

    /// <summary>A line of text that a screen shows once (the result of an action), cleared by the next key.</summary>
    public string? Notice { get; set; }

    protected static string Esc(string? text) => Markup.Escape(text ?? "");
}
