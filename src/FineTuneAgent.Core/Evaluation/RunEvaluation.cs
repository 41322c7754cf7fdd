using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Core.Evaluation;

/// <summary>Stores an evaluation with its run: eval.json in the run's output folder, referenced from run.json's "eval".</summary>
public static class RunEvaluation
{
    public static string Save(RunStore store, string runId, EvaluationResult result)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(result);
        var record = store.Get(runId);
        Directory.CreateDirectory(record.OutputDirectory);
        var path = Path.Combine(record.OutputDirectory, EvaluationResult.FileName);
        var temp = path + ".tmp";
        File.WriteAllText(temp, result.ToJsonString());
        File.Move(temp, path, overwrite: true);
        store.Save(store.Get(runId) with { EvaluationFile = path });
        return path;
    }
}
