using System.Text;
using FineTuneAgent.Modeling.Chat;

namespace FineTuneAgent.Core.Export.Gguf;

/// <summary>
/// An Ollama Modelfile for an exported GGUF: FROM the file beside it, a TEMPLATE in Ollama's Go
/// template language that renders the chat format the model was trained with, and a stop
/// parameter per end-of-turn string of that format.
/// </summary>
public static class OllamaModelfile
{
    public const string FileName = "Modelfile";

    /// <param name="ggufFileName">The GGUF's file name (the Modelfile sits in the same folder).</param>
    /// <param name="chatFormat">The chat format's name (qwen3, llama3, llama3.0, llama2).</param>
    /// <param name="templateAddsBos">Whether the template must write BOS itself because the GGUF does not add it when tokenizing.</param>
    public static string Render(string ggufFileName, string chatFormat, bool templateAddsBos)
    {
        var format = ChatFormats.Get(chatFormat);
        var sb = new StringBuilder();
        sb.Append("FROM ./").Append(ggufFileName).Append('\n');
        sb.Append("TEMPLATE \"\"\"").Append(Template(format.Name, templateAddsBos)).Append("\"\"\"\n");
        foreach (var stop in format.StopStrings)
            sb.Append("PARAMETER stop \"").Append(stop.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append("\"\n");
        return sb.ToString();
    }

    // Ollama passes the conversation as .Messages (system messages included, each with .Role and
    // .Content); the template ends with the generation prompt, as add_generation_prompt does.
    private static string Template(string format, bool bos) => format switch
    {
        "qwen3" =>
            "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n",
        "llama3" =>
            (bos ? "<|begin_of_text|>" : "")
            + "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
            + "{{- range .Messages }}{{ if eq .Role \"system\" }}{{ .Content }}{{ end }}{{ end }}<|eot_id|>"
            + "{{- range .Messages }}{{ if ne .Role \"system\" }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}{{ end }}"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n",
        "llama3.0" =>
            (bos ? "<|begin_of_text|>" : "")
            + "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n",
        // [INST] turns with the system prompt folded into the first; BOS before every turn (it is "<s>" text here).
        "llama2" =>
            "{{- $system := \"\" }}{{- range .Messages }}{{ if eq .Role \"system\" }}{{ $system = .Content }}{{ end }}{{ end }}"
            + "{{- $first := true }}{{- range .Messages }}"
            + "{{- if eq .Role \"user\" }}<s>[INST] {{ if and $first $system }}<<SYS>>\n{{ $system }}\n<</SYS>>\n\n{{ end }}{{ .Content }} [/INST]{{ $first = false }}"
            + "{{- else if eq .Role \"assistant\" }} {{ .Content }} </s>{{ end }}{{ end }}",
        _ => throw new ArgumentException($"no Ollama template for chat format '{format}'", nameof(format)),
    };
}
