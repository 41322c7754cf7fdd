namespace FineTuneAgent.Modeling.Config;

/// <summary>
/// HF `rope_scaling`: "llama3" (Llama 3.1/3.2) and "linear" are supported; "default" means none.
/// Field names follow transformers' keys.
/// </summary>
public sealed record RopeScaling(
    string RopeType,
    double Factor,
    double LowFreqFactor = 1.0,
    double HighFreqFactor = 4.0,
    int OriginalMaxPositionEmbeddings = 8192);
