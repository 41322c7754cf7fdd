using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Actors;
using FineTuneAgent.Core.Hardware;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Recommendation;
using FineTuneAgent.Core.Training;
using Spectre.Console;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta profiles [show NAME]`: the hardware profiles (profiles/*.hocon, plus this machine as the probe finds it)
/// with their feasibility matrices — every reference model size × method: fits or not, and the memory it needs.
/// The matrices live in the run history (hardware_profiles) and are recomputed when a profile or the estimator
/// (the method plugins) changed.
/// </summary>
public static class ProfilesCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON.", Recursive = true };
        var runsDir = new Option<string?>("--runs-dir") { Description = "Where runs are recorded (default: FTA_RUNS_DIR or ~/.local/share/fta/runs).", Recursive = true };
        var db = new Option<string?>("--db") { Description = "The history database (default: <runs-dir>/history.db).", Recursive = true };
        var folder = new Option<string?>("--folder") { Description = "The profiles folder (default: profiles/ beside fta, or FTA_PROFILES_DIR).", Recursive = true };
        var name = new Argument<string>("name") { Description = "A profile name (see fta profiles), or this-machine." };
        var show = new Command("show", "One profile's feasibility matrix: each model size × method, fits or not, and the memory it needs.") { name };
        var command = new Command("profiles", "Hardware profiles and what each can fine-tune (model sizes × methods).") { show, json, runsDir, db, folder };
        command.SetAction(parse =>
        {
            var entries = Sync(parse.GetValue(runsDir), parse.GetValue(db), parse.GetValue(folder));
            if (parse.GetValue(json))
                System.Console.WriteLine(new JsonArray(entries.Select(e => (JsonNode)Json(e)).ToArray()).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            else
                PrintList(entries);
            return 0;
        });
        show.SetAction(parse =>
        {
            var entries = Sync(parse.GetValue(runsDir), parse.GetValue(db), parse.GetValue(folder));
            var wanted = parse.GetValue(name)!;
            var entry = entries.FirstOrDefault(e => e.Name == wanted)
                ?? throw new ArgumentException($"no profile named \"{wanted}\"{FineTuneAgent.Abstractions.Spelling.DidYouMean(wanted, entries.Select(e => e.Name).ToList())}; profiles: {string.Join(", ", entries.Select(e => e.Name))}");
            if (parse.GetValue(json))
                System.Console.WriteLine(Json(entry).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            else
                PrintMatrix(entry);
            return 0;
        });
        return command;
    }

    /// <summary>The profiles folder plus this machine, stored with fresh matrices (recomputed where stale), as the history now holds them.</summary>
    private static IReadOnlyList<HardwareProfileEntry> Sync(string? runsDir, string? db, string? folder)
    {
        var profiles = HardwareProfiles.Load(folder ?? HardwareProfiles.DefaultFolder).Append(HardwareProfile.ThisMachine(new HardwareProbe().Probe())).ToList();
        var store = HistoryStore.Open(db ?? HistoryStore.DefaultPath(runsDir ?? RunStore.DefaultFolder));
        using var plugins = PluginHost.Load();
        var version = ProfileCatalog.EstimatorVersion(plugins);
        IReadOnlyList<HardwareProfile> stale;
        using (var reader = store.OpenReader())
            stale = ProfileCatalog.Stale(reader, profiles, version);
        if (stale.Count > 0)
        {
            var recommender = new Recommender(plugins.Method);
            using var system = ActorSystem.Create("fta-profiles");
            var writer = system.ActorOf(HistoryWriter.Props(store), "history");
            foreach (var profile in stale)
                writer.Ask<HistoryProtocol.Written>(new HistoryProtocol.PutHardwareProfile(ProfileCatalog.Entry(profile, recommender, version)), TimeSpan.FromMinutes(1))
                    .GetAwaiter().GetResult();
        }
        using var read = store.OpenReader();
        var names = profiles.Select(p => p.Name).ToHashSet();
        return read.ListHardwareProfiles().Where(e => names.Contains(e.Name)).ToList();
    }

    private static JsonObject Json(HardwareProfileEntry e) => new()
    {
        ["name"] = e.Name,
        ["profile"] = e.Profile.DeepClone(),
        ["feasibility"] = e.Feasibility?.DeepClone(),
        ["estimator_version"] = e.EstimatorVersion,
    };

    private static void PrintList(IReadOnlyList<HardwareProfileEntry> entries)
    {
        var console = Terminal.Create();
        var labels = Recommender.Candidates.Select(c => c.Label).ToList();
        var table = new Table().AddColumn("Profile").AddColumn("Device").AddColumn("Usable");
        foreach (var label in labels)
            table.AddColumn($"{label}: up to");
        foreach (var e in entries)
        {
            var profile = ProfileCatalog.FromJson(e.Profile);
            var rows = e.Feasibility!["rows"]!.AsArray();
            var cells = new List<string>
            {
                Markup.Escape(e.Name),
                Markup.Escape($"{profile.Device.Name}{(profile.Workstations > 1 ? $" ×{profile.Workstations}" : "")}"),
                $"{(double)e.Feasibility["usable_gb"]!:F1} GB",
            };
            foreach (var label in labels)
            {
                var largest = rows.Where(r => (bool)r!["methods"]![label]!["fits"]!).Select(r => (string)r!["model"]!)
                    .MaxBy(m => ReferenceModels.ParseCount(m.Split(' ')[1]));
                cells.Add(largest is null ? "[red]-[/]" : Markup.Escape(largest));
            }
            table.AddRow(cells.ToArray());
        }
        console.Write(table);
        console.MarkupLine($"[grey]The largest reference model each method fits at sequence length {(int)entries[0].Feasibility!["sequence_length"]!} (effective batch 16), per device; `fta profiles show NAME` gives the whole matrix.[/]");
    }

    private static void PrintMatrix(HardwareProfileEntry e)
    {
        var console = Terminal.Create();
        var profile = ProfileCatalog.FromJson(e.Profile);
        var f = e.Feasibility!;
        console.MarkupLineInterpolated($"{e.Name}: {profile.Description}; usable {(double)f["usable_gb"]!:F1} GB per device, sequence length {(int)f["sequence_length"]!}");
        var labels = Recommender.Candidates.Select(c => c.Label).ToList();
        var table = new Table().AddColumn("Model").AddColumn("Recommended");
        foreach (var label in labels)
            table.AddColumn(label);
        foreach (var row in f["rows"]!.AsArray())
        {
            var cells = new List<string> { Markup.Escape((string)row!["model"]!), Markup.Escape((string?)row["recommended"] ?? "nothing fits") };
            foreach (var label in labels)
            {
                var m = row["methods"]![label]!;
                var gb = $"{(double)m["gb"]!:F1} GB";
                cells.Add((bool)m["fits"]! ? $"[green]✓ {gb}[/]{((bool)m["gradient_checkpointing"]! ? " gc" : "")}" : $"[red]✗ {gb}[/]");
            }
            table.AddRow(cells.ToArray());
        }
        console.Write(table);
        console.MarkupLine("[grey]✓ fits with the memory shown (gc: with gradient checkpointing); ✗ does not fit even at micro-batch 1 with checkpointing.[/]");
    }
}
