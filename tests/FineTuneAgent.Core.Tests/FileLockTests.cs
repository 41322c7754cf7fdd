using FineTuneAgent.Core;

namespace FineTuneAgent.Core.Tests;

/// <summary>The lock that keeps one agent per runs folder and one process per run.</summary>
public sealed class FileLockTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("fta-lock-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void WhileHeld_ASecondTakerIsRefusedWithTheHoldersPid_AndAfterReleaseItGetsIt()
    {
        var path = Path.Combine(_folder, "sub", "x.lock");
        using (var held = FileLock.TryTake(path, out var none))
        {
            Assert.NotNull(held);
            Assert.Null(none);
            Assert.Null(FileLock.TryTake(path, out var holder));
            Assert.Equal($"pid {Environment.ProcessId}", holder);
            Assert.True(FileLock.IsHeld(path));
        }
        Assert.False(FileLock.IsHeld(path));
        using var again = FileLock.TryTake(path, out _);
        Assert.NotNull(again);
    }

    [Fact]
    public void AFileLeftBehind_DoesNotHoldTheLock()
    {
        var path = Path.Combine(_folder, "stale.lock");
        File.WriteAllText(path, "");
        File.WriteAllText(path + ".pid", "999999\n");
        Assert.False(FileLock.IsHeld(path));
        Assert.False(FileLock.IsHeld(Path.Combine(_folder, "absent.lock")));
    }
}
