using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneAgent.Console.Tests;

/// <summary>`fta tokenize` and `fta generate --chat` against the reference tokenizer (@huggingface/tokenizers via node).</summary>
public sealed class TokenizeAndChatTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"fta-cli-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "FineTuneAgent.sln")))
                return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    /// <summary>Ids from tests/compat/tokenize.mjs for each text: (with special tokens, without).</summary>
    private static List<(int[] ids, int[] idsNoSpecial)> Reference(string modelDir, IReadOnlyList<string> texts)
    {
        var request = new JsonObject
        {
            ["jobs"] = new JsonArray(new JsonObject
            {
                ["tokenizer"] = Path.Combine(modelDir, "tokenizer.json"),
                ["config"] = Path.Combine(modelDir, "tokenizer_config.json"),
                ["texts"] = new JsonArray(texts.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
            }),
        };
        var requestPath = Path.Combine(modelDir, "request.json");
        File.WriteAllText(requestPath, request.ToJsonString());
        var psi = new ProcessStartInfo("node", [Path.Combine(RepoRoot(), "tests", "compat", "tokenize.mjs"), requestPath]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "node reference timed out");
        Assert.True(p.ExitCode == 0, stderr.Result);
        var encodes = JsonNode.Parse(stdout.Result)!["jobs"]![0]!["encode"]!.AsArray();
        return encodes.Select(e => (e!["ids"]!.AsArray().Select(x => (int)x!).ToArray(), e["idsNoSpecial"]!.AsArray().Select(x => (int)x!).ToArray())).ToList();
    }

    [Theory]
    [InlineData("qwen3")]
    [InlineData("llama")]
    public void Tokenize_EachLine_EqualsTheReferenceTokenizer(string template)
    {
        Assert.Equal(0, Fta.Run("model", "init", "--template", template, "--out", _dir).exitCode);
        string[] lines = ["Hello, 世界! 123456789", "  def f(x):\treturn x ** 2  ", "<|im_start|>user I'LL go 🚀👨‍👩‍👧"];
        var input = Path.Combine(_dir, "input.txt");
        File.WriteAllText(input, string.Join("\n", lines) + "\n");
        var (code, stdout, stderr) = Fta.Run("tokenize", "--tokenizer", _dir, "--file", input);
        Assert.True(code == 0, stderr);
        var ours = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonSerializer.Deserialize<int[]>(l)!).ToList();
        var reference = Reference(_dir, lines);
        Assert.Equal(reference.Select(r => r.ids), ours);
        var noSpecial = Fta.Run("tokenize", "--tokenizer", Path.Combine(_dir, "tokenizer.json"), "--text", lines[0], "--no-special-tokens");
        Assert.Equal(reference[0].idsNoSpecial, JsonSerializer.Deserialize<int[]>(noSpecial.stdout.Trim()));
    }

    [Fact]
    public void GenerateChat_Qwen3_PromptIsTheChatTemplateRendering()
    {
        Assert.Equal(0, Fta.Run("model", "init", "--template", "qwen3", "--out", _dir).exitCode);
        var (code, stdout, stderr) = Fta.Run("generate", "--model", _dir, "--prompt", "Hi", "--chat", "--system", "Be brief.", "--no-thinking",
            "--max-new-tokens", "3", "--greedy", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var promptIds = doc.RootElement.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        // Qwen3's template with enable_thinking=false (FACTS §4.1), encoded by the reference tokenizer.
        const string rendered = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";
        Assert.Equal(Reference(_dir, [rendered])[0].idsNoSpecial, promptIds);
        Assert.True(doc.RootElement.TryGetProperty("text", out _));
    }

    [Fact]
    public void Tokenize_UnsupportedTokenizer_NamesFileAndComponent()
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "tokenizer.json");
        File.WriteAllText(path, """{"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": null, "post_processor": null, "decoder": null, "model": {"type": "WordPiece", "vocab": {"a": 0}, "unk_token": "a"}}""");
        var (code, _, stderr) = Fta.Run("tokenize", "--tokenizer", path, "--text", "a");
        Assert.Equal(1, code);
        Assert.Contains(path, stderr);
        Assert.Contains("WordPiece", stderr);
    }
}
