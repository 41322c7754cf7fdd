using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Tests.Datasets;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Config;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Tests.Export.Gguf;

/// <summary>
/// Tiny random models in HF layout with the real tokenizers: the built-in "tiny" configs with
/// weights drawn wider than HF's 0.02 (so logits spread and greedy choices are clear), and a
/// Llama 2 variant with its 32k SentencePiece vocabulary.
/// </summary>
internal static class TinyGgufModels
{
    public static IModelTemplate Template(string name)
    {
        using var plugins = PluginHost.Load();
        return plugins.TemplateNamed(name);
    }

    public static string Create(string dir, string template, string tokenizer, Action<JsonObject>? edit = null, int seed = 3)
    {
        var t = Template(template);
        var json = t.BuiltInConfig("tiny");
        json["initializer_range"] = 0.15;
        edit?.Invoke(json);
        var config = ModelConfigReader.Parse(json, $"tiny {template}");
        manual_seed(seed);
        using (var model = t.BuildModel(config, ScalarType.Float32, initialize: true))
            Checkpoint.Save(model, dir);
        foreach (var f in RealTokenizers.Files(tokenizer))
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return dir;
    }

    public static string Qwen3(string dir) => Create(dir, "qwen3", "qwen3");

    public static string Llama3(string dir) => Create(dir, "llama", "llama3");

    public static string Llama2(string dir) => Create(dir, "llama", "llama2", j =>
    {
        j["vocab_size"] = 32000;
        j["rope_scaling"] = null;
        j["rope_theta"] = 10000.0;
        j["max_position_embeddings"] = 4096;
        j["bos_token_id"] = 1;
        j["eos_token_id"] = 2;
        j["tie_word_embeddings"] = false;
    });
}
