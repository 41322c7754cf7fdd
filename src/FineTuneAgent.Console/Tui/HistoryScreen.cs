using Spectre.Console;

namespace FineTuneAgent.Console.Tui;

/// <summary>Every run in the history: type / to filter (id, status, method, model), m to mark two runs and compare them.</summary>
internal sealed class HistoryScreen : Screen
{
    private readonly TextInput _filter = new();
    private readonly List<string> _marked = [];
    private bool _typing;
    private int _selected;

    public override string Title => "history";

    public override string Keys => _typing ? "type to filter · Enter done · Esc clear" : "↑↓ select · Enter open · / filter · m mark (2 → compare) · Esc back · q quit";

    private List<RunRow> Visible(ConsoleData data)
    {
        var text = _filter.Text.Trim();
        return data.Snapshot.Runs.Where(r => text.Length == 0
            || new[] { r.Id, r.Status, r.Method, r.Model }.Any(f => f?.Contains(text, StringComparison.OrdinalIgnoreCase) == true)).ToList();
    }

    public override IReadOnlyList<string> Render(ConsoleData data, int width, int height)
    {
        var runs = Visible(data);
        _selected = Math.Clamp(_selected, 0, Math.Max(0, runs.Count - 1));
        var lines = new List<string>
        {
            $"filter: {(_typing ? $"[reverse]{Markup.Escape(_filter.Text)} [/]" : _filter.Text.Length > 0 ? Markup.Escape(_filter.Text) : "[grey](none: / to type one)[/]")} · "
            + $"{runs.Count} of {data.Snapshot.Runs.Count} runs · marked: {(_marked.Count == 0 ? "none" : Markup.Escape(string.Join(", ", _marked.Select(Cells.ShortId))))}",
        };
        var table = DashboardScreen.RunTable(runs, _selected, width, height - 1, _marked);
        lines.AddRange(table);
        return lines.Take(height).ToList();
    }

    public override ScreenAction Handle(ConsoleKeyInfo key, ConsoleData data)
    {
        if (_typing)
        {
            if (key.Key == ConsoleKey.Enter)
                _typing = false;
            else if (key.Key == ConsoleKey.Escape)
            {
                _filter.Clear();
                _typing = false;
            }
            else
                _filter.Handle(key);
            _selected = 0;
            return ScreenAction.Stay;
        }
        var runs = Visible(data);
        switch (key.Key)
        {
            case ConsoleKey.UpArrow or ConsoleKey.K:
                _selected = Math.Max(0, _selected - 1);
                break;
            case ConsoleKey.DownArrow or ConsoleKey.J:
                _selected = Math.Min(Math.Max(0, runs.Count - 1), _selected + 1);
                break;
            case ConsoleKey.Oem2 or ConsoleKey.Divide:
                _typing = true;
                break;
            case ConsoleKey.Enter when runs.Count > 0:
                return new ScreenAction.Open(new RunScreen(runs[_selected].Id));
            case ConsoleKey.M when runs.Count > 0:
                var id = runs[_selected].Id;
                if (!_marked.Remove(id))
                    _marked.Add(id);
                if (_marked.Count == 2)
                {
                    var compare = new CompareScreen(_marked[0], _marked[1]);
                    _marked.Clear();
                    return new ScreenAction.Open(compare);
                }
                break;
            case ConsoleKey.Escape or ConsoleKey.Backspace:
                return ScreenAction.Back;
            case ConsoleKey.Q:
                return ScreenAction.Quit;
            default:
                if (key.KeyChar == '/')
                    _typing = true;
                break;
        }
        return ScreenAction.Stay;
    }
}
