using FineTuneAgent.Core.Training;
using FineTuneAgent.Modeling.Checkpoints;

namespace FineTuneAgent.Core.Export;

/// <summary>
/// The base model and final adapter of a recorded run: the adapter is the run's output folder
/// (the trainer writes the final save there), the model the run's --model or, for the built-in
/// model, the base path the adapter records.
/// </summary>
public static class RunExportSource
{
    public static (string ModelDirectory, string AdapterDirectory) Resolve(RunStore store, string runId)
    {
        var record = store.Get(runId);
        if (record.Status != RunStatus.Completed)
        {
            var last = record.Checkpoints.LastOrDefault();
            throw new ExportException($"run {runId} is {record.Status.ToString().ToLowerInvariant()}, so it has no final adapter" +
                (last is null ? "" : $"; export its last checkpoint with --model <base model> --adapter {last}"));
        }
        var adapterDir = (record.Summary?["output_dir"] as System.Text.Json.Nodes.JsonValue)?.GetValue<string>() ?? record.OutputDirectory;
        var request = TrainRequest.FromJson(record.Config, Path.Combine(store.RunFolder(runId), RunStore.RecordFileName));
        var modelDir = request.ModelDirectory ?? AdapterFolder.Read(adapterDir).BaseModelNameOrPath;
        if (modelDir is null || !File.Exists(Path.Combine(modelDir, Checkpoint.ConfigFileName)))
            throw new ExportException($"run {runId}: its base model folder {modelDir ?? "(not recorded)"} has no {Checkpoint.ConfigFileName}; pass it with --model DIR --adapter {adapterDir}");
        return (modelDir, adapterDir);
    }
}
