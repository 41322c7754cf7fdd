using System.Text.Json;
using System.Text.Json.Serialization;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// trainer_state.json in a checkpoint: where the run was (step, epoch, position in the epoch's row
/// order, scheduler step), the best validation so far, libtorch's generator states (CPU, and the run's CUDA device's
/// when it trains on one), and the losses not
/// yet logged. With the method's save and the optimizer state, enough to continue exactly.
/// </summary>
public sealed record TrainerState
{
    public const string FileName = "trainer_state.json";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    [JsonPropertyName("global_step")] public int GlobalStep { get; init; }

    [JsonPropertyName("epoch")] public double Epoch { get; init; }

    /// <summary>The epoch the next step reads from.</summary>
    [JsonPropertyName("epoch_index")] public int EpochIndex { get; init; }

    /// <summary>Rows of that epoch's order already consumed.</summary>
    [JsonPropertyName("data_position")] public int DataPosition { get; init; }

    [JsonPropertyName("scheduler_step")] public int SchedulerStep { get; init; }

    [JsonPropertyName("total_steps")] public int TotalSteps { get; init; }

    [JsonPropertyName("effective_batch_size")] public int EffectiveBatchSize { get; init; }

    [JsonPropertyName("train_rows")] public int TrainRows { get; init; }

    [JsonPropertyName("best_val_loss")] public double? BestValidationLoss { get; init; }

    [JsonPropertyName("best_step")] public int? BestStep { get; init; }

    [JsonPropertyName("evals_without_improvement")] public int EvaluationsWithoutImprovement { get; init; }

    /// <summary>Step losses since the last logged step (logging_steps above 1).</summary>
    [JsonPropertyName("unlogged_losses")] public IReadOnlyList<double> UnloggedLosses { get; init; } = [];

    /// <summary>torch.get_rng_state() of the CPU generator, base64.</summary>
    [JsonPropertyName("rng_state")] public string RngState { get; init; } = "";

    /// <summary>torch.cuda.get_rng_state() of the run's CUDA device, base64; null when the run trains on the CPU.</summary>
    [JsonPropertyName("cuda_rng_state")] public string? CudaRngState { get; init; }

    [JsonPropertyName("early_stopped")] public bool EarlyStopped { get; init; }

    public void Write(string directory) =>
        File.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, s_json));

    public static TrainerState Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} not found: not a training checkpoint", path);
        try
        {
            return JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path), s_json) ?? throw new InvalidDataException($"{path}: empty trainer state");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: malformed trainer state at line {e.LineNumber + 1}: {e.Message}", e);
        }
    }
}
