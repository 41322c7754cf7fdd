using FineTuneAgent.Actors;
using FineTuneAgent.Core.Hardware;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Recommendation;
using FineTuneAgent.Core.Tests.Datasets;
using FineTuneAgent.Core.Tests.Training;

namespace FineTuneAgent.Core.Tests.Recommendation;

/// <summary>
/// The bundled profiles (profiles/*.hocon) as the binder reads them, the recommender on each (its choice is the
/// best-quality method whose estimate fits the profile's usable memory, and the reason says so with the numbers),
/// bad profile files, and the feasibility matrices kept in the history until the estimator changes.
/// </summary>
public class HardwareProfileTests
{
    private static readonly Lazy<PluginHost> s_host = new(() => PluginHost.Load(Path.Combine(AppContext.BaseDirectory, "plugins")));

    private static string Folder => Path.Combine(RealTokenizers.RepoRoot, "profiles");

    private static IReadOnlyList<HardwareProfile> Profiles => HardwareProfiles.Load(Folder);

    [Fact]
    public void TheBundledProfiles_CoverTheHardwareClasses_WithTheirMemory()
    {
        var byName = Profiles.ToDictionary(p => p.Name);
        Assert.Equal(["a100-40gb", "a100-80gb", "cpu-only", "h100-80gb", "l40-48gb", "pool-2x-rtx-4090", "rtx-3060-12gb", "rtx-4090-24gb"], byName.Keys.Order());
        Assert.Equal(12L << 30, byName["rtx-3060-12gb"].Device.Memory);
        Assert.Equal((long)(11.5 * (1L << 30)), byName["rtx-3060-12gb"].Device.FreeBytes);
        Assert.Equal(80L << 30, byName["h100-80gb"].Device.FreeBytes); // headless: all of it
        Assert.Equal(DeviceKind.Cpu, byName["cpu-only"].Device.Kind);
        // The pool includes the 4090 profile's device and has two workstations, each holding a whole copy.
        var pool = byName["pool-2x-rtx-4090"];
        Assert.Equal(2, pool.Workstations);
        Assert.Equal(byName["rtx-4090-24gb"].Device, pool.Device);
        Assert.Equal(byName["rtx-4090-24gb"].Plan().Budget.UsableBytes, pool.Plan().Budget.UsableBytes);
    }

    [Theory]
    [InlineData("a100-40gb")]
    [InlineData("a100-80gb")]
    [InlineData("cpu-only")]
    [InlineData("h100-80gb")]
    [InlineData("l40-48gb")]
    [InlineData("pool-2x-rtx-4090")]
    [InlineData("rtx-3060-12gb")]
    [InlineData("rtx-4090-24gb")]
    public void OnEachProfile_TheChoiceIsTheBestMethodThatFits_AndTheReasonCarriesItsNumbers(string name)
    {
        var profile = HardwareProfiles.Named(Profiles, name);
        var (budget, request) = profile.Plan();
        var recommender = new Recommender(s_host.Value.Method);
        foreach (var (arch, size) in FeasibilityMatrix.Models)
        {
            var r = recommender.Recommend(ReferenceModels.Config(size, arch), $"{arch} {size}", budget, request);
            var all = new[] { r.Chosen }.OfType<TrainingPlan>().Concat(r.Alternatives).Concat(r.DoesNotFit).ToList();
            var firstFitting = Recommender.Candidates.Select(c => all.Single(p => p.Label == c.Label)).FirstOrDefault(p => p.Estimate.TotalBytes <= budget.UsableBytes);
            Assert.Equal(firstFitting?.Label, r.Chosen?.Label);
            if (r.Chosen is { } chosen)
                Assert.Contains(r.Reasons, s => s.Contains($"{chosen.Label} is the best-quality method that fits: {Recommender.Gb(chosen.Estimate.TotalBytes)} of {Recommender.Gb(budget.UsableBytes)} usable", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void WellKnownCases_ComeOutWhereTheirSizeSaysTheyShould()
    {
        var recommender = new Recommender(s_host.Value.Method);
        Core.Recommendation.Recommendation For(string profile, string size, string arch)
        {
            var (budget, request) = HardwareProfiles.Named(Profiles, profile).Plan();
            return recommender.Recommend(ReferenceModels.Config(size, arch), $"{arch} {size}", budget, request);
        }
        // A 7B model on a 12 GB card needs a quantized base; on an 80 GB A100 it trains whole or nearly.
        Assert.StartsWith("QLoRA", For("rtx-3060-12gb", "7B", "llama").Chosen!.Label);
        Assert.Contains(For("a100-80gb", "7B", "llama").Chosen!.Label, new[] { "Full", "Freeze" });
        // 70B: nothing fits a 12 GB card; an 80 GB card holds it only quantized (its bf16 weights alone are 138 GB).
        Assert.Null(For("rtx-3060-12gb", "70B", "llama").Chosen);
        Assert.StartsWith("QLoRA", For("h100-80gb", "70B", "llama").Chosen!.Label);
        Assert.Equal("Full", For("h100-80gb", "0.6B", "qwen3").Chosen!.Label);
    }

    [Fact]
    public void ABadProfile_IsRefused_NamingTheFileAndTheSetting()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder.Path);
        var path = Path.Combine(folder.Path, "bad.hocon");
        File.WriteAllText(path, "profile {\n  name = bad\n  device {\n    kind = gpu\n    memory = lots\n    bf16 = maybe\n  }\n  workstation = 2\n}\n");
        var e = Assert.Throws<InvalidDataException>(() => HardwareProfiles.LoadFile(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("profile.device.memory", e.Message, StringComparison.Ordinal);
        Assert.Contains("profile.device.bf16", e.Message, StringComparison.Ordinal);
        Assert.Contains("profile.workstation", e.Message, StringComparison.Ordinal);
        Assert.Contains("workstations", e.Message, StringComparison.Ordinal); // the did-you-mean

        var unknown = Assert.Throws<ArgumentException>(() => HardwareProfiles.Named(Profiles, "a100-80"));
        Assert.Contains("a100-80gb", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FeasibilityMatrices_AreStoredWithTheEstimatorVersion_AndStaleOnlyWhenSomethingChanged()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder.Path);
        var store = HistoryStore.Open(Path.Combine(folder.Path, "history.db"));
        var profiles = Profiles.Take(2).ToList();
        var recommender = new Recommender(s_host.Value.Method);
        var version = ProfileCatalog.EstimatorVersion(s_host.Value);
        using (var reader = store.OpenReader())
            Assert.Equal(profiles, ProfileCatalog.Stale(reader, profiles, version));

        using (var system = ActorSystem.Create("profiles-test"))
        {
            var writer = system.ActorOf(HistoryWriter.Props(store), "history");
            foreach (var p in profiles)
                await writer.Ask<HistoryProtocol.Written>(new HistoryProtocol.PutHardwareProfile(ProfileCatalog.Entry(p, recommender, version)), TimeSpan.FromMinutes(1));
        }

        using var read = store.OpenReader();
        Assert.Empty(ProfileCatalog.Stale(read, profiles, version));
        Assert.Equal(profiles, ProfileCatalog.Stale(read, profiles, "another-estimator"));
        var edited = profiles[0] with { Device = profiles[0].Device with { Free = 1L << 30 } };
        Assert.Equal([edited], ProfileCatalog.Stale(read, [edited, profiles[1]], version));

        var stored = read.GetHardwareProfile(profiles[0].Name)!;
        Assert.Equal(profiles[0], ProfileCatalog.FromJson(stored.Profile));
        var rows = stored.Feasibility!["rows"]!.AsArray();
        Assert.Equal(FeasibilityMatrix.Models.Count, rows.Count);
        // Each cell is the method's own estimate for that model on that profile.
        var (budget, request) = profiles[0].Plan();
        var direct = recommender.Recommend(ReferenceModels.Config("7B", "llama"), "llama 7B", budget, request with { SequenceLength = 1024 });
        var row = rows.Single(r => (string)r!["model"]! == "llama 7B")!;
        Assert.Equal(direct.Chosen?.Label, (string?)row["recommended"]);
        var lora = new[] { direct.Chosen }.OfType<TrainingPlan>().Concat(direct.Alternatives).Concat(direct.DoesNotFit).Single(p => p.Label == "LoRA");
        Assert.Equal(Math.Round(lora.Estimate.TotalBytes / 1e9, 1), (double)row["methods"]!["LoRA"]!["gb"]!);
    }

    [Fact]
    public void ThisMachine_IsAProfileToo()
    {
        var report = new HardwareProbe().Probe();
        var me = HardwareProfile.ThisMachine(report);
        Assert.Equal(HardwareProfile.ThisMachineName, me.Name);
        if (report.Gpus.All(g => !g.UsableByTorch))
        {
            Assert.Equal(DeviceKind.Cpu, me.Device.Kind);
            Assert.Equal(report.Cpu.AvailableMemoryBytes, me.Device.FreeBytes);
            Assert.Equal(MemoryBudget.CpuOverheadBytes, me.Plan().Budget.FrameworkOverheadBytes);
        }
    }
}
