using FineTuneAgent.Actors;
using FineTuneAgent.Core.History;

namespace FineTuneAgent.Core.Tests.History;

/// <summary>A history fta must not write to is reported with its path and left byte for byte as it was.</summary>
public sealed class HistoryRobustnessTests : IDisposable
{
    private readonly HistoryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private HistoryDatabaseException OpenRefused(HistoryProblem problem)
    {
        var before = File.ReadAllBytes(_folder.Database);
        var e = Assert.Throws<HistoryDatabaseException>(() => HistoryStore.Open(_folder.Database));
        Assert.Equal(problem, e.Problem);
        Assert.Equal(_folder.Database, e.DatabasePath);
        Assert.StartsWith(_folder.Database + ":", e.Message);
        Assert.Contains("left untouched", e.Message);
        Assert.Equal(before, File.ReadAllBytes(_folder.Database));
        return e;
    }

    /// <summary>A real history of a few pages, its WAL merged into the file (the store's connections are all closed).</summary>
    private void WriteHistoryWithRuns(int runs)
    {
        var store = HistoryStore.Open(_folder.Database);
        using var system = ActorSystem.Create("robustness-test");
        var writer = system.ActorOf(HistoryWriter.Props(store));
        for (var i = 0; i < runs; i++)
        {
            writer.Ask<HistoryProtocol.Written>(new HistoryProtocol.RecordRun(new HistoryRun
            {
                Id = $"run-{i}",
                Config = new System.Text.Json.Nodes.JsonObject { ["padding"] = new string('x', 3000) },
            })).Wait();
        }
        system.Terminate().Wait();
        using (var c = HistoryFolder.Raw(_folder.Database))
            HistoryFolder.Execute(c, "PRAGMA wal_checkpoint(TRUNCATE)");
        File.Delete(_folder.Database + "-wal");
        File.Delete(_folder.Database + "-shm");
    }

    [Fact]
    public void Open_RandomBytes_IsReportedAsDamaged_AndNotTouched()
    {
        var bytes = new byte[50_000];
        new Random(7).NextBytes(bytes);
        File.WriteAllBytes(_folder.Database, bytes);
        var e = OpenRefused(HistoryProblem.Damaged);
        Assert.Contains("not an SQLite database", e.Message);
    }

    [Fact]
    public void Open_ShorterThanTheHeader_IsReportedAsDamaged_AndNotTouched()
    {
        WriteHistoryWithRuns(1);
        File.WriteAllBytes(_folder.Database, File.ReadAllBytes(_folder.Database)[..60]);
        Assert.Contains("shorter than SQLite's 100-byte header", OpenRefused(HistoryProblem.Damaged).Message);
    }

    [Fact]
    public void Open_TruncatedHistory_IsReportedAsDamaged_AndNotTouched()
    {
        WriteHistoryWithRuns(20);
        var whole = File.ReadAllBytes(_folder.Database);
        Assert.True(whole.Length > 16 * 4096, $"the history should span many pages, has {whole.Length} bytes");
        File.WriteAllBytes(_folder.Database, whole[..(whole.Length / 2)]);
        var e = OpenRefused(HistoryProblem.Damaged);
        Assert.Contains("truncated", e.Message);
        Assert.False(File.Exists(_folder.Database + "-wal") && new FileInfo(_folder.Database + "-wal").Length > 0);
    }

    [Fact]
    public void Read_PagesOverwrittenWithGarbage_IsReportedWithThePath()
    {
        WriteHistoryWithRuns(20);
        var bytes = File.ReadAllBytes(_folder.Database);
        new Random(3).NextBytes(bytes.AsSpan(4096, bytes.Length - 4096)); // every page but the first (header and schema)
        File.WriteAllBytes(_folder.Database, bytes);

        var e = Assert.Throws<HistoryDatabaseException>(() =>
        {
            var store = HistoryStore.Open(_folder.Database);
            using var reader = store.OpenReader();
            reader.ListRuns();
        });
        Assert.Equal(HistoryProblem.Damaged, e.Problem);
        Assert.StartsWith(_folder.Database + ":", e.Message);
    }

    [Fact]
    public void Open_NewerSchema_IsReported_AndNotTouched()
    {
        WriteHistoryWithRuns(1);
        using (var c = HistoryFolder.Raw(_folder.Database))
        {
            HistoryFolder.Execute(c, "INSERT INTO schema_version VALUES (99, '2030-01-01T00:00:00.0000000+00:00', 'from the future'); CREATE TABLE future (x)");
            HistoryFolder.Execute(c, "PRAGMA wal_checkpoint(TRUNCATE)");
        }
        File.Delete(_folder.Database + "-wal");
        File.Delete(_folder.Database + "-shm");
        var e = OpenRefused(HistoryProblem.NewerSchema);
        Assert.Contains($"written by a newer fta, schema v99 > v{HistoryStore.CurrentSchemaVersion}", e.Message);
    }

    [Fact]
    public void Open_SomeoneElsesDatabase_IsReported_AndNotTouched()
    {
        using (var c = HistoryFolder.Raw(_folder.Database))
            HistoryFolder.Execute(c, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5)");
        var e = OpenRefused(HistoryProblem.NotAHistory);
        Assert.Contains("not an fta history database", e.Message);
        Assert.Contains("invoices", e.Message);
    }

    [Fact]
    public void Open_EmptyFile_BecomesAHistory()
    {
        File.WriteAllBytes(_folder.Database, []);
        var store = HistoryStore.Open(_folder.Database);
        using var reader = store.OpenReader();
        Assert.Equal(HistoryStore.CurrentSchemaVersion, reader.SchemaVersion);
        Assert.Equal("ok", HistoryFolder.IntegrityCheck(_folder.Database));
    }
}
