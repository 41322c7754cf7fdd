using System.Globalization;
using System.Text;
using Spectre.Console;

namespace FineTuneAgent.Console;

/// <summary>
/// A line plot for the terminal (Spectre.Console has bar charts only). A line series is drawn in braille, each
/// character cell holding 2 × 4 dots, so a plot W cells wide resolves 2W steps; a marker series (validation
/// points, sparse) puts one character per point and is drawn over the lines. Colours tell series apart on a
/// terminal; the markers and the legend still do when the output is plain text.
/// </summary>
internal sealed class LineChart(int width, int height)
{
    private const int LabelWidth = 9;
    private readonly List<Series> _series = [];

    private sealed record Series(string Label, IReadOnlyList<(double X, double Y)> Points, Color Color, char? Marker);

    /// <summary>Adds a series; <paramref name="marker"/> null draws a braille line, a character draws that character at each point.</summary>
    public LineChart Add(string label, IEnumerable<(double X, double Y)> points, Color color, char? marker = null)
    {
        var finite = points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        if (finite.Count > 0)
            _series.Add(new Series(label, finite, color, marker));
        return this;
    }

    public bool IsEmpty => _series.Count == 0;

    /// <summary>The plot as Spectre markup lines: y labels, the plot, the x axis with its first and last step, the legend.</summary>
    public IReadOnlyList<string> Render(string xLabel = "step")
    {
        if (IsEmpty)
            return [];
        var all = _series.SelectMany(s => s.Points).ToList();
        double xMin = all.Min(p => p.X), xMax = all.Max(p => p.X), yMin = all.Min(p => p.Y), yMax = all.Max(p => p.Y);
        if (xMax == xMin)
            xMax = xMin + 1;
        if (yMax == yMin)
        {
            yMin -= 0.5;
            yMax += 0.5;
        }
        var dots = new int[height, width];
        var dotColor = new Color?[height, width];
        var marks = new char?[height, width];
        var markColor = new Color?[height, width];
        int Dx(double x) => (int)Math.Round((x - xMin) / (xMax - xMin) * (2 * width - 1));
        int Dy(double y) => (int)Math.Round((yMax - y) / (yMax - yMin) * (4 * height - 1));

        foreach (var s in _series.Where(s => s.Marker is null))
        {
            void Dot(int x, int y)
            {
                dots[y / 4, x / 2] |= BrailleBit(x % 2, y % 4);
                dotColor[y / 4, x / 2] = s.Color;
            }
            var previous = (X: Dx(s.Points[0].X), Y: Dy(s.Points[0].Y));
            Dot(previous.X, previous.Y);
            foreach (var p in s.Points.Skip(1))
            {
                var next = (X: Dx(p.X), Y: Dy(p.Y));
                foreach (var (x, y) in Segment(previous, next))
                    Dot(x, y);
                previous = next;
            }
        }
        foreach (var s in _series.Where(s => s.Marker is not null))
        {
            foreach (var p in s.Points)
            {
                var (row, column) = (Dy(p.Y) / 4, Dx(p.X) / 2);
                marks[row, column] = s.Marker;
                markColor[row, column] = s.Color;
            }
        }

        var lines = new List<string>();
        for (var row = 0; row < height; row++)
        {
            var label = row == 0 ? Number(yMax) : row == height - 1 ? Number(yMin) : row == height / 2 ? Number(yMax - (yMax - yMin) * (row * 4 + 1.5) / (4 * height - 1)) : "";
            var line = new StringBuilder(label.PadLeft(LabelWidth)).Append(row == 0 || row == height - 1 || row == height / 2 ? " ┤" : " │");
            for (var column = 0; column < width; column++)
            {
                if (marks[row, column] is { } mark)
                    line.Append(Colored(mark.ToString(), markColor[row, column]));
                else if (dots[row, column] != 0)
                    line.Append(Colored(((char)(0x2800 + dots[row, column])).ToString(), dotColor[row, column]));
                else
                    line.Append(' ');
            }
            lines.Add(line.ToString());
        }
        lines.Add(new string(' ', LabelWidth) + " └" + new string('─', width));
        var first = Number(xMin);
        var last = Number(xMax);
        var gap = Math.Max(1, width - first.Length - last.Length);
        var middle = xLabel.Length + 2 <= gap ? xLabel.PadLeft((gap + xLabel.Length) / 2).PadRight(gap) : new string(' ', gap);
        lines.Add(new string(' ', LabelWidth + 2) + first + Markup.Escape(middle) + last);
        lines.Add(new string(' ', LabelWidth + 2) + string.Join("   ", _series.Select(s => $"{Colored(s.Marker?.ToString() ?? "⣿", s.Color)} {Markup.Escape(s.Label)}")));
        return lines;
    }

    private static string Colored(string text, Color? color) => color is { } c ? $"[{c.ToMarkup()}]{Markup.Escape(text)}[/]" : Markup.Escape(text);

    private static string Number(double v) => Math.Abs(v) >= 1000 || v == Math.Round(v) ? v.ToString("0.##", CultureInfo.InvariantCulture) : v.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>The braille dot of column <paramref name="x"/> (0–1) and row <paramref name="y"/> (0–3) of a cell, as Unicode numbers them.</summary>
    private static int BrailleBit(int x, int y) => (x, y) switch
    {
        (0, 3) => 0x40,
        (1, 3) => 0x80,
        (0, _) => 1 << y,
        _ => 1 << (y + 3),
    };

    /// <summary>The dots of a straight segment (Bresenham).</summary>
    private static IEnumerable<(int X, int Y)> Segment((int X, int Y) from, (int X, int Y) to)
    {
        int dx = Math.Abs(to.X - from.X), sx = from.X < to.X ? 1 : -1;
        int dy = -Math.Abs(to.Y - from.Y), sy = from.Y < to.Y ? 1 : -1;
        int error = dx + dy, x = from.X, y = from.Y;
        while (true)
        {
            yield return (x, y);
            if (x == to.X && y == to.Y)
                yield break;
            var e2 = 2 * error;
            if (e2 >= dy)
            {
                error += dy;
                x += sx;
            }
            if (e2 <= dx)
            {
                error += dx;
                y += sy;
            }
        }
    }
}
