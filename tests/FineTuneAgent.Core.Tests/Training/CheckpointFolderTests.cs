using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Core.Tests.Training;

/// <summary>Checkpoints are written whole or not at all.</summary>
[Collection(GeneratorCollection.Name)]
public class CheckpointFolderTests
{
    private sealed class SimulatedCrash() : Exception("simulated crash before the rename");

    [Fact]
    public void ACrashMidWrite_LeavesThePreviousCheckpoint_AndNoHalfFolder()
    {
        using var output = new TempFolder();
        using var tiny = TinyTraining.Lora();
        var trainer = tiny.Trainer(new TrainingOptions { LearningRate = 1e-3, MaxSteps = 4, SaveSteps = 2 }, TinyTraining.Rows(4), output.Path);
        trainer.BeforeCheckpointCommit = temp =>
        {
            if (File.ReadAllText(Path.Combine(temp, TrainerState.FileName)).Contains("\"global_step\": 4", StringComparison.Ordinal))
                throw new SimulatedCrash();
        };
        Assert.Throws<SimulatedCrash>(() => trainer.Train());

        var previous = CheckpointFolder.PathFor(output.Path, 2);
        Assert.Equal(previous, CheckpointFolder.Latest(output.Path));
        Assert.Equal(2, TrainerState.Read(previous).GlobalStep);
        Assert.True(File.Exists(Path.Combine(previous, Trainer.OptimizerFileName)));
        Assert.True(File.Exists(Path.Combine(previous, "adapter_model.safetensors")));
        Assert.False(Directory.Exists(CheckpointFolder.PathFor(output.Path, 4)));
        Assert.Empty(Directory.GetDirectories(output.Path, ".tmp-*"));
    }

    [Fact]
    public void Latest_IgnoresWhatAKilledProcessLeftBehind()
    {
        using var output = new TempFolder();
        CheckpointFolder.WriteAtomically(CheckpointFolder.PathFor(output.Path, 3), dir => new TrainerState { GlobalStep = 3 }.Write(dir));
        // What SIGKILL can leave: a temporary folder mid-write (never renamed), and, from a foreign tool, a
        // checkpoint-named folder without its trainer state.
        var temp = Directory.CreateDirectory(Path.Combine(output.Path, ".tmp-checkpoint-6.0123456789abcdef")).FullName;
        File.WriteAllText(Path.Combine(temp, "adapter_model.safetensors"), "half");
        Directory.CreateDirectory(CheckpointFolder.PathFor(output.Path, 9));

        Assert.Equal(CheckpointFolder.PathFor(output.Path, 3), CheckpointFolder.Latest(output.Path));
        Assert.Equal([3], CheckpointFolder.List(output.Path).Select(c => c.Step));
        // The next save of that checkpoint clears the leftover.
        CheckpointFolder.WriteAtomically(CheckpointFolder.PathFor(output.Path, 6), dir => new TrainerState { GlobalStep = 6 }.Write(dir));
        Assert.False(Directory.Exists(temp));
        Assert.Equal(CheckpointFolder.PathFor(output.Path, 6), CheckpointFolder.Latest(output.Path));
    }

    [Fact]
    public void Rewriting_AnExistingCheckpoint_ReplacesItWhole()
    {
        using var output = new TempFolder();
        var path = CheckpointFolder.PathFor(output.Path, 5);
        CheckpointFolder.WriteAtomically(path, dir => { new TrainerState { GlobalStep = 5 }.Write(dir); File.WriteAllText(Path.Combine(dir, "old.txt"), "x"); });
        CheckpointFolder.WriteAtomically(path, dir => new TrainerState { GlobalStep = 5, BestStep = 5 }.Write(dir));
        Assert.False(File.Exists(Path.Combine(path, "old.txt")));
        Assert.Equal(5, TrainerState.Read(path).BestStep);
        Assert.Single(Directory.GetDirectories(output.Path));
    }
}
