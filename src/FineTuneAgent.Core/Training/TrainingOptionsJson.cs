using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// <see cref="TrainingOptions"/> to and from JSON under LLaMA-Factory's names. An unknown key is an
/// error suggesting the nearest known one; a wrong type names the field.
/// </summary>
public static class TrainingOptionsJson
{
    public static TrainingOptions Read(JsonObject? json)
    {
        var r = new SettingsReader("training", json);
        var d = new TrainingOptions();
        try
        {
            var options = new TrainingOptions
            {
                LearningRate = r.OptionalDouble("learning_rate"),
                NumTrainEpochs = r.Double("num_train_epochs", d.NumTrainEpochs),
                MaxSteps = r.Has("max_steps") && r.Int("max_steps", -1) is var m && m != -1 ? m : null, // -1: HF's "not set"
                PerDeviceTrainBatchSize = r.Int("per_device_train_batch_size", d.PerDeviceTrainBatchSize),
                GradientAccumulationSteps = r.Int("gradient_accumulation_steps", d.GradientAccumulationSteps),
                LrSchedulerType = r.String("lr_scheduler_type", d.LrSchedulerType),
                WarmupRatio = r.Double("warmup_ratio", d.WarmupRatio),
                WarmupSteps = r.Int("warmup_steps", d.WarmupSteps),
                WeightDecay = r.Double("weight_decay", d.WeightDecay),
                MaxGradNorm = r.Double("max_grad_norm", d.MaxGradNorm),
                Seed = (long)r.Double("seed", d.Seed),
                LoggingSteps = r.Int("logging_steps", d.LoggingSteps),
                EvalSteps = r.Has("eval_steps") ? r.Int("eval_steps", 0) : null,
                SaveSteps = r.Int("save_steps", d.SaveSteps),
                EarlyStoppingPatience = r.Has("early_stopping_patience") ? r.Int("early_stopping_patience", 0) : null,
                Bf16 = r.Bool("bf16", d.Bf16),
                GradientCheckpointing = r.Bool("gradient_checkpointing", d.GradientCheckpointing),
                CutoffLen = r.Int("cutoff_len", d.CutoffLen),
                ValSize = r.Double("val_size", d.ValSize),
                Packing = r.Bool("packing", d.Packing),
                Device = r.String("device", d.Device),
            };
            r.RejectUnknown();
            options.Validate();
            return options;
        }
        catch (MethodSettingsException e)
        {
            throw new TrainingOptionsException([(e.Field, e.Message[(e.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..])]);
        }
    }

    /// <summary>Every option, defaults included, as the user would write them.</summary>
    public static JsonObject Write(TrainingOptions o)
    {
        var json = new JsonObject
        {
            ["learning_rate"] = o.LearningRate,
            ["num_train_epochs"] = o.NumTrainEpochs,
            ["per_device_train_batch_size"] = o.PerDeviceTrainBatchSize,
            ["gradient_accumulation_steps"] = o.GradientAccumulationSteps,
            ["lr_scheduler_type"] = o.LrSchedulerType,
            ["warmup_ratio"] = o.WarmupRatio,
            ["warmup_steps"] = o.WarmupSteps,
            ["weight_decay"] = o.WeightDecay,
            ["max_grad_norm"] = o.MaxGradNorm,
            ["seed"] = o.Seed,
            ["logging_steps"] = o.LoggingSteps,
            ["save_steps"] = o.SaveSteps,
            ["bf16"] = o.Bf16,
            ["gradient_checkpointing"] = o.GradientCheckpointing,
            ["cutoff_len"] = o.CutoffLen,
            ["val_size"] = o.ValSize,
            ["packing"] = o.Packing,
            ["device"] = o.Device,
        };
        if (o.LearningRate is null)
            json.Remove("learning_rate");
        if (o.MaxSteps is { } m)
            json["max_steps"] = m;
        if (o.EvalSteps is { } e)
            json["eval_steps"] = e;
        if (o.EarlyStoppingPatience is { } p)
            json["early_stopping_patience"] = p;
        return json;
    }
}
