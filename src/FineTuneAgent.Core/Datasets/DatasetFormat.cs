namespace FineTuneAgent.Core.Datasets;

/// <summary>How rows are laid out, as LLaMA-Factory's dataset_info.json <c>formatting</c> names it.</summary>
public enum DatasetFormat
{
    /// <summary>instruction / input / output, optional system and history [[query, answer], ...].</summary>
    Alpaca,

    /// <summary>A message list (<c>conversations</c> with from/value, or <c>messages</c> with role/content).</summary>
    ShareGpt,
}
