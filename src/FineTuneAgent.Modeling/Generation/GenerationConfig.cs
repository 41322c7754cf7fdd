using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Modeling.Config;

namespace FineTuneAgent.Modeling.Generation;

/// <summary>
/// A model folder's generation_config.json as generation defaults (HF GenerationConfig fields:
/// do_sample, temperature, top_k, top_p, repetition_penalty, max_new_tokens, eos/pad ids).
/// Missing fields keep GenerationOptions' defaults; eos and pad fall back to config.json's.
/// </summary>
public static class GenerationConfig
{
    public const string FileName = "generation_config.json";

    public static GenerationOptions Load(string modelDir, ModelConfig config)
    {
        var options = new GenerationOptions { EosTokenIds = config.EosTokenIds, PadTokenId = config.PadTokenId };
        var path = Path.Combine(modelDir, FileName);
        if (!File.Exists(path))
            return options;
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new ModelConfigException($"{path}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new ModelConfigException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message}");
        }
        var r = new FieldReader(json, path);
        return options with
        {
            DoSample = r.Bool("do_sample") ?? options.DoSample,
            Temperature = r.Double("temperature") ?? options.Temperature,
            // HF GenerationConfig's own default is top_k = 50 (it applies when sampling).
            TopK = r.Int("top_k") ?? 50,
            TopP = r.Double("top_p") ?? options.TopP,
            RepetitionPenalty = r.Double("repetition_penalty") ?? options.RepetitionPenalty,
            MaxNewTokens = r.Int("max_new_tokens") ?? options.MaxNewTokens,
            EosTokenIds = r.IntOrList("eos_token_id") ?? options.EosTokenIds,
            PadTokenId = r.Int("pad_token_id") ?? options.PadTokenId,
        };
    }
}
