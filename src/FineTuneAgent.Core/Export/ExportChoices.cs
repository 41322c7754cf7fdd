using FineTuneAgent.Abstractions;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Export;

/// <summary>
/// The words `fta export` and `fta train --export` accept for format, dtype and GGUF quantization,
/// parsed with an error that lists the choices and suggests the nearest one.
/// </summary>
public static class ExportChoices
{
    public static readonly IReadOnlyList<string> Formats = ["peft", "merged", "gguf", "gguf-adapter"];

    public static readonly IReadOnlyList<string> DTypes = ["bf16", "f16", "f32"];

    /// <summary>GGUF tensor types the GGUF writer produces (llama.cpp's names, lower case).</summary>
    public static readonly IReadOnlyList<string> Quants = ["f32", "f16", "q8_0", "q4_0"];

    public static ExportFormat Format(string text, string option = "--format") => Normalize(text, Formats, option) switch
    {
        "peft" => ExportFormat.Peft,
        "merged" => ExportFormat.Merged,
        "gguf-adapter" => ExportFormat.GgufAdapter,
        _ => ExportFormat.Gguf,
    };

    /// <summary>The word for a format, as <see cref="Format"/> reads it.</summary>
    public static string Name(ExportFormat format) => format switch
    {
        ExportFormat.Peft => "peft",
        ExportFormat.Merged => "merged",
        ExportFormat.GgufAdapter => "gguf-adapter",
        _ => "gguf",
    };

    /// <summary>The word for a dtype, as <see cref="DType"/> reads it.</summary>
    public static string Name(ScalarType dtype) => dtype switch
    {
        ScalarType.BFloat16 => "bf16",
        ScalarType.Float16 => "f16",
        ScalarType.Float32 => "f32",
        _ => throw new ArgumentException($"{dtype} is not an export dtype"),
    };

    /// <summary>A comma-separated list of formats (`peft,gguf`), each once.</summary>
    public static IReadOnlyList<ExportFormat> FormatList(string text, string option = "--export")
    {
        var formats = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(f => Format(f, option)).ToList();
        if (formats.Count == 0)
            throw new ArgumentException($"{option}: give one or more of {string.Join(", ", Formats)} (comma-separated)");
        return formats.Distinct().ToList();
    }

    /// <summary>bf16, f16 or f32; the torch_dtype names (bfloat16, float16, float32) are accepted too.</summary>
    public static ScalarType DType(string text, string option = "--dtype")
    {
        ArgumentNullException.ThrowIfNull(text);
        var word = text.Trim().ToLowerInvariant() switch
        {
            "bfloat16" => "bf16",
            "float16" or "fp16" => "f16",
            "float32" or "fp32" => "f32",
            var w => w,
        };
        return Normalize(word, DTypes, option, text) switch
        {
            "bf16" => ScalarType.BFloat16,
            "f16" => ScalarType.Float16,
            _ => ScalarType.Float32,
        };
    }

    /// <summary>The GGUF quantization, lower case (f32, f16, q8_0, q4_0).</summary>
    public static string Quant(string text, string option = "--quant") => Normalize(text, Quants, option);

    private static string Normalize(string text, IReadOnlyList<string> choices, string option, string? typed = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var word = text.Trim().ToLowerInvariant();
        if (choices.Contains(word))
            return word;
        throw new ArgumentException($"{option}: unknown value '{typed ?? text}'{Spelling.DidYouMean(word, choices)} (choose one of {string.Join(", ", choices)})");
    }
}
