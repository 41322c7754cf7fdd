namespace FineTuneAgent.Core.Datasets;

/// <summary>A dataset of a run and its share in the mix (null: use all of it; see <see cref="DatasetMixer"/>).</summary>
public sealed record DatasetSource(DatasetDescription Description, double? Ratio = null);
