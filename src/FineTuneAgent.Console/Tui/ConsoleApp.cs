using Spectre.Console;

namespace FineTuneAgent.Console.Tui;

/// <summary>
/// The console's loop: a stack of screens drawn full-screen (alternate buffer) with a title bar and the current
/// screen's key hints, redrawn when data arrives, a key is pressed, or the terminal is resized, and at least every
/// second. Keys go to the top screen. q, or Ctrl+C, quits: the console's own threads stop; runs go on in the agent.
/// </summary>
internal sealed class ConsoleApp(ConsoleData data, string agentDescription)
{
    private readonly Stack<Screen> _screens = new([new DashboardScreen()]);
    private readonly ManualResetEventSlim _wake = new();

    public int Run(IAnsiConsole console)
    {
        System.Console.TreatControlCAsInput = true;
        data.Changed += _wake.Set;
        var quit = false;
        console.AlternateScreen(() =>
        {
            System.Console.CursorVisible = false;
            try
            {
                while (!quit)
                {
                    var (width, height) = (Math.Max(40, System.Console.WindowWidth), Math.Max(12, System.Console.WindowHeight));
                    // Line by line at fixed positions, never a newline: the bottom line must not scroll the screen.
                    var frame = Frame(width, height);
                    for (var row = 0; row < frame.Count; row++)
                    {
                        console.Cursor.SetPosition(1, row + 1); // ANSI positions count from 1
                        console.Write(new ControlCode("\u001b[2K")); // the whole line, last column included
                        console.Markup(frame[row]);
                    }
                    _wake.Reset();
                    var waited = 0;
                    while (!System.Console.KeyAvailable && waited < 1000 && !_wake.IsSet && (width, height) == (System.Console.WindowWidth, System.Console.WindowHeight))
                    {
                        _wake.Wait(50);
                        waited += 50;
                    }
                    while (System.Console.KeyAvailable && !quit)
                        quit = Dispatch(System.Console.ReadKey(intercept: true));
                }
            }
            finally
            {
                System.Console.CursorVisible = true;
            }
        });
        data.Changed -= _wake.Set;
        return 0;
    }

    /// <summary>True to quit.</summary>
    private bool Dispatch(ConsoleKeyInfo key)
    {
        if (key.Key == ConsoleKey.C && key.Modifiers.HasFlag(ConsoleModifiers.Control))
            return true;
        var top = _screens.Peek();
        top.Notice = null;
        ScreenAction action;
        try
        {
            action = top.Handle(key, data);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A failing action is shown where the user looks, with its type; the console stays up (runs are the agent's).
            top.Notice = $"[red]{Markup.Escape($"{e.GetType().Name}: {e.Message}")}[/]";
            return false;
        }
        switch (action)
        {
            case ScreenAction.QuitAction:
                return true;
            case ScreenAction.BackAction when _screens.Count > 1:
                _screens.Pop();
                break;
            case ScreenAction.BackAction:
                return true;
            case ScreenAction.Open open:
                _screens.Push(open.Screen);
                break;
            case ScreenAction.Replace replace:
                _screens.Pop();
                _screens.Push(replace.Screen);
                break;
        }
        return false;
    }

    /// <summary>The whole screen: title bar, the top screen's lines (padded to fill), its notice or problem, its key hints.</summary>
    public IReadOnlyList<string> Frame(int width, int height)
    {
        var screen = _screens.Peek();
        var snap = data.Snapshot;
        width -= 1; // the last column stays empty: a line filling it would wrap on some terminals
        var title = $" fta console · {screen.Title} · {agentDescription} {data.Client.Url} · {DateTime.Now:HH:mm:ss}";
        var lines = new List<string> { $"[black on deepskyblue1]{Cells.Fit(title, width)}[/]" };
        var body = screen.Render(data, width, height - 3);
        lines.AddRange(body.Take(height - 3));
        while (lines.Count < height - 2)
            lines.Add("");
        lines.Add(snap.Problem is { } problem ? $"[red]{Cells.Fit("agent: " + problem, width)}[/]" : screen.Notice ?? "");
        lines.Add($"[grey]{Cells.Fit(screen.Keys, width)}[/]");
        // Each line padded to one cell short of the width: it overwrites the last frame's line and never wraps.
        // A line wider than that loses its colours rather than wrap (which would shift every line below it).
        return lines.Take(height).Select(l => Visible(l) is var text && text.Length > width ? Cells.Fit(text, width) : Safe(l) + new string(' ', width - text.Length)).ToList();
    }

    /// <summary>The line's text without markup; a line whose markup is broken (a bug) is shown as its raw text instead of ending the console.</summary>
    private static string Visible(string line)
    {
        try
        {
            return Markup.Remove(line);
        }
        catch (InvalidOperationException)
        {
            return line;
        }
    }

    private static string Safe(string line) => Visible(line) == line && line.Contains('[', StringComparison.Ordinal) ? Markup.Escape(line) : line;

    /// <summary>What the console would show, as plain lines, for when there is no terminal (a pipe or a file).</summary>
    public IEnumerable<string> Snapshot(int width, int height)
    {
        var screen = _screens.Peek();
        yield return $"fta console · {screen.Title} · {agentDescription} {data.Client.Url}";
        foreach (var line in screen.Render(data, width, height))
            yield return Visible(line);
    }
}
