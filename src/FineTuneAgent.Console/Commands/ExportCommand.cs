using System.CommandLine;
using FineTuneAgent.Core.Export;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Training;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta export`: a run's (or a model folder's) adapter as a PEFT folder, a merged Hugging Face
/// checkpoint, a GGUF file or a GGUF LoRA adapter, with progress per tensor. (`fta train --export` runs the
/// same exports in the run's exporter stage.)
/// </summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var run = new Option<string?>("--run") { Description = "A recorded run's id: exports its final adapter over its base model." };
        var model = new Option<string?>("--model") { Description = "Base model folder in Hugging Face layout." };
        var adapter = new Option<string?>("--adapter") { Description = "What a method saved: a PEFT adapter (lora, dora, qlora) or a freeze/full save (with --model)." };
        var format = new Option<string>("--format") { Description = "peft, merged, gguf (the merged model for llama.cpp/Ollama) or gguf-adapter (a LoRA adapter llama.cpp applies over the base GGUF).", Required = true };
        var quant = new Option<string?>("--quant") { Description = "GGUF tensor type: f32, f16 (default), q8_0 or q4_0." };
        var dtype = new Option<string?>("--dtype") { Description = "Merged checkpoint dtype: bf16, f16 or f32 (default: the base's)." };
        var maxShard = new Option<string?>("--max-shard-size") { Description = "Merged checkpoint shard size limit, as transformers' max_shard_size (default 5GB)." };
        var output = new Option<string>("--out") { Description = "Output folder (peft, merged) or .gguf file (gguf, gguf-adapter); must not exist yet.", Required = true };
        var json = new Option<bool>("--json") { Description = "One JSON object per progress line, then the result." };
        var runsDir = new Option<string?>("--runs-dir") { Description = "Where runs are recorded (default: FTA_RUNS_DIR or ~/.local/share/fta/runs)." };
        var command = new Command("export", "Export an adapter as PEFT, a merged Hugging Face checkpoint, or GGUF.")
        {
            run, model, adapter, format, quant, dtype, maxShard, output, json, runsDir,
        };
        command.SetAction(parse =>
        {
            var chosenFormat = ExportChoices.Format(parse.GetValue(format)!);
            if (parse.GetValue(quant) is not null && chosenFormat != ExportFormat.Gguf)
                throw new ArgumentException("--quant applies to --format gguf only (use --dtype for a merged checkpoint)");
            if (parse.GetValue(maxShard) is not null && chosenFormat != ExportFormat.Merged)
                throw new ArgumentException("--max-shard-size applies to --format merged only");
            string modelDir;
            string? adapterDir;
            switch (parse.GetValue(run), parse.GetValue(model))
            {
                case ({ } id, null):
                    if (parse.GetValue(adapter) is not null)
                        throw new ArgumentException("--adapter goes with --model; --run exports the run's own final adapter");
                    (modelDir, adapterDir) = RunExportSource.Resolve(new RunStore(parse.GetValue(runsDir) ?? RunStore.DefaultFolder), id);
                    break;
                case (null, { } dir):
                    (modelDir, adapterDir) = (Path.GetFullPath(dir), parse.GetValue(adapter) is { } a ? Path.GetFullPath(a) : null);
                    break;
                default:
                    throw new ArgumentException("give either --run ID or --model DIR [--adapter DIR]");
            }
            var request = new ExportRequest
            {
                Format = chosenFormat,
                ModelDirectory = modelDir,
                AdapterDirectory = adapterDir,
                OutputPath = Path.GetFullPath(parse.GetValue(output)!),
                DType = parse.GetValue(dtype) is { } d ? ExportChoices.DType(d) : null,
                Quant = ExportChoices.Quant(parse.GetValue(quant) ?? "f16"),
                MaxShardSize = parse.GetValue(maxShard) ?? "5GB",
            };
            using var plugins = PluginHost.Load();
            var view = ExportView.Create(parse.GetValue(json));
            var result = view.Run(progress => Exporter.Export(request, plugins, Exporter.GgufWriter(plugins), progress));
            view.Finish(result);
            return 0;
        });
        return command;
    }
}
