using System.Text;

namespace FineTuneAgent.Modeling.Chat;

/// <summary>A conversation rendered by a chat format: its segments, in order.</summary>
public sealed class RenderedChat(IReadOnlyList<ChatSegment> segments)
{
    public IReadOnlyList<ChatSegment> Segments { get; } = segments;

    /// <summary>The whole text, exactly as the model's chat template renders it.</summary>
    public string ToText() => string.Concat(Segments.Select(s => s.Text));

    /// <summary>The text of each run of consecutive loss-carrying segments: what training learns to produce.</summary>
    public IReadOnlyList<string> LossSpans()
    {
        var spans = new List<string>();
        StringBuilder? run = null;
        foreach (var s in Segments)
        {
            if (s.CarriesLoss)
                (run ??= new StringBuilder()).Append(s.Text);
            else if (run is not null)
            {
                spans.Add(run.ToString());
                run = null;
            }
        }
        if (run is not null)
            spans.Add(run.ToString());
        return spans;
    }

    public override string ToString() => ToText();
}
