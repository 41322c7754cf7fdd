using Spectre.Console;

namespace FineTuneAgent.Console;

/// <summary>
/// The Spectre console commands write to. Output redirected to a file or a pipe gets no colour
/// codes and a wide line, so a table read by a script (or a test) is plain text and unwrapped.
/// </summary>
internal static class Terminal
{
    private const int RedirectedWidth = 200;

    public static IAnsiConsole Create()
    {
        var redirected = System.Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Out = new AnsiConsoleOutput(System.Console.Out),
        });
        if (redirected)
            console.Profile.Width = RedirectedWidth;
        return console;
    }
}
