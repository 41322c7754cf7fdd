using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Modeling.Tests.Tokenization;

/// <summary>
/// Loads our tokenizers for the real Qwen3, Llama 3 and Llama 2 files (plus two variants written
/// the way other exports of those models look) and asks the reference, in one node process, for
/// its encodings of the corpus, its decodings and its Unicode normalization.
/// </summary>
public sealed class ReferenceFixture : IDisposable
{
    private readonly string _variantDirectory;
    private readonly Dictionary<string, string> _nfc = new(StringComparer.Ordinal);

    public ReferenceFixture()
    {
        var clock = Stopwatch.StartNew();
        _variantDirectory = Path.Combine(Path.GetTempPath(), $"fta-tokenizer-variants-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_variantDirectory);

        var files = new List<(string Name, string Tokenizer, string Package, bool Nfc)>
        {
            ("qwen3", Path.Combine(RepoPaths.ModelDirectory("qwen3"), "tokenizer.json"), "qwen3", true),
            ("llama3", Path.Combine(RepoPaths.ModelDirectory("llama3"), "tokenizer.json"), "llama3", false),
            ("llama3-bos", WriteVariant("llama3", "llama3-bos", AddLlama3BosTemplate), "llama3", false),
            ("llama2", Path.Combine(RepoPaths.ModelDirectory("llama2"), "tokenizer.json"), "llama2", false),
            ("llama2-metaspace", WriteVariant("llama2", "llama2-metaspace", UseMetaspacePreTokenizer), "llama2", false),
        };
        var texts = ParityCorpus.Texts.Concat(ParityCorpus.LoneSurrogates.Select(s => s.AsUtf8)).ToList();
        NfcInputs = [.. texts, .. NormalizationInputs()];
        var request = new JsonObject
        {
            ["jobs"] = new JsonArray([.. files.Select(f => (JsonNode)new JsonObject
            {
                ["tokenizer"] = f.Tokenizer,
                ["config"] = ConfigPath(f.Package),
                ["texts"] = Strings(texts),
                ["decodeBytes"] = new JsonArray([.. DecodeBytes(byteFallback: f.Package == "llama2").Select(b =>
                    (JsonNode)new JsonArray([.. b.Select(x => (JsonNode)JsonValue.Create(x))]))]),
                ["preTokenize"] = Strings(ParityCorpus.Texts),
            })]),
            ["normalize"] = new JsonArray(
                new JsonObject { ["form"] = "NFC", ["texts"] = Strings(NfcInputs) },
                new JsonObject { ["form"] = "NFD", ["texts"] = Strings(NfcInputs) }),
        };

        // The reference runs in its own process while we load ours.
        var reference = Task.Run(() => NodeReference.Run(request));
        var ours = files.Select(f => Tokenizer.FromFile(f.Tokenizer, ConfigPath(f.Package))).ToList();
        var response = reference.GetAwaiter().GetResult();

        var models = new List<ModelCase>();
        for (var i = 0; i < files.Count; i++)
        {
            var job = response["jobs"]![i]!;
            models.Add(new ModelCase(files[i].Name, ours[i], files[i].Nfc, texts)
            {
                Encodings = [.. job["encode"]!.AsArray().Select(e => new ReferenceEncoding(
                    Ids(e!["ids"]!), Ids(e["idsNoSpecial"]!), (string)e["decoded"]!, (string)e["decodedSkip"]!))],
                Decodings = [.. job["decode"]!.AsArray().Select(d => new ReferenceDecoding(
                    Ids(d!["ids"]!), (string)d["text"]!, (string)d["textSkip"]!, (string)d["textCleanUp"]!))],
                PreTokens = job["preTokens"] is JsonArray preTokens
                    ? [.. preTokens.Select(p => (IReadOnlyList<string>)[.. p!.AsArray().Select(s => (string)s!)])]
                    : null,
            });
        }
        Models = models;
        NfcReference = [.. response["normalize"]![0]!.AsArray().Select(s => (string)s!)];
        NfdReference = [.. response["normalize"]![1]!.AsArray().Select(s => (string)s!)];
        for (var i = 0; i < NfcInputs.Count; i++)
        {
            _nfc.TryAdd(NfcInputs[i], NfcReference[i]);
        }
        SetupTime = clock.Elapsed;
    }

    public IReadOnlyList<ModelCase> Models { get; }

    /// <summary>The corpus, every code point (in chunks) and random mark sequences.</summary>
    public IReadOnlyList<string> NfcInputs { get; }
    public IReadOnlyList<string> NfcReference { get; }
    public IReadOnlyList<string> NfdReference { get; }

    /// <summary>Loading our tokenizers plus the node run.</summary>
    public TimeSpan SetupTime { get; }

    /// <summary>The reference's NFC of a corpus text.</summary>
    public string ReferenceNfc(string text) => _nfc[text];

    public ModelCase this[string name] => Models.Single(m => m.Name == name);

    public void Dispose() => Directory.Delete(_variantDirectory, recursive: true);

    private static string ConfigPath(string package) => Path.Combine(RepoPaths.ModelDirectory(package), "tokenizer_config.json");

    /// <summary>Byte sequences whose byte tokens we decode, most of them cutting UTF-8 sequences
    /// at odd places. Llama 2 (ByteFallback) only gets valid ones: on invalid ones the reference
    /// differs from HF tokenizers (DecoderTests has HF's cases).</summary>
    private static byte[][] DecodeBytes(bool byteFallback)
    {
        byte[][] valid = [[0xE4, 0xBD, 0xA0], [0xF0, 0x9F, 0x98, 0x80], [0x61, 0xC3, 0xA9], [0x0A], [0x20, 0x20]];
        byte[][] invalid = [[0xE4], [0xE4, 0xBD], [0xE4, 0x61], [0xF0, 0x9F, 0x98], [0x80], [0xC3, 0x28],
            [0xED, 0xA0, 0x80], [0xFF], [0xC0, 0xAF], [0xE4, 0xBD, 0xA0, 0xE5], [0xF0, 0x9F, 0x98, 0x80, 0x80]];
        return byteFallback ? valid : [.. valid, .. invalid];
    }

    private static JsonArray Strings(IEnumerable<string> texts) => new([.. texts.Select(t => (JsonNode)JsonValue.Create(t))]);

    /// <summary>Every code point (in chunks, so marks meet their neighbours) and seeded random
    /// sequences of starters, marks and Hangul jamo.</summary>
    private static List<string> NormalizationInputs()
    {
        var inputs = new List<string>();
        var sb = new StringBuilder();
        for (var cp = 0; cp <= 0x10FFFF; cp++)
        {
            if (cp is >= 0xD800 and <= 0xDFFF)
            {
                continue;
            }
            sb.Append(char.ConvertFromUtf32(cp));
            if (sb.Length >= 1024)
            {
                inputs.Add(sb.ToString());
                sb.Clear();
            }
        }
        inputs.Add(sb.ToString());

        int[][] pools =
        [
            [.. Enumerable.Range('A', 26), .. Enumerable.Range('a', 26), 0xC5, 0xE9, 0x1E0A, 0x1E9B, 0x212B, 0x3B1, 0x3C9, 0x415, 0x4E8],
            [.. Enumerable.Range(0x300, 0x70), .. Enumerable.Range(0x591, 0x37), .. Enumerable.Range(0x1DC0, 0x40), 0x20D0, 0x20D2, 0x20E3],
            [0x93C, 0x94D, 0x9BC, 0x9BE, 0x9D7, 0xB3E, 0xB56, 0xB57, 0xBBE, 0xBD7, 0xCD5, 0xCD6, 0xD3E, 0xD57, 0x102E, 0x1B35, 0x3099, 0x309A],
            [.. Enumerable.Range(0x1100, 19), .. Enumerable.Range(0x1161, 21), .. Enumerable.Range(0x11A7, 28), 0xAC00, 0xAC01, 0xD7A3, 0xB098],
            [0x1D15E, 0x1D165, 0x1D16E, 0x1D1BB, 0x110B9, 0x110BA, 0x11131, 0x11127, 0x1611E, 0x16D67, 0x105C9, 0x11F00],
        ];
        var random = new Random(15);
        for (var i = 0; i < 4000; i++)
        {
            sb.Clear();
            var n = random.Next(1, 9);
            for (var j = 0; j < n; j++)
            {
                var pool = pools[random.Next(pools.Length)];
                sb.Append(char.ConvertFromUtf32(pool[random.Next(pool.Length)]));
            }
            inputs.Add(sb.ToString());
        }
        return inputs;
    }

    private string WriteVariant(string package, string name, Action<JsonObject> patch)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.ModelDirectory(package), "tokenizer.json")))!.AsObject();
        patch(json);
        var path = Path.Combine(_variantDirectory, name, "tokenizer.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    /// <summary>The post-processor of meta-llama/Meta-Llama-3-8B's tokenizer.json since May 2024:
    /// ByteLevel then TemplateProcessing "&lt;|begin_of_text|&gt; $A".</summary>
    private static void AddLlama3BosTemplate(JsonObject json)
    {
        json["post_processor"] = JsonNode.Parse("""
            {"type": "Sequence", "processors": [
              {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
              {"type": "TemplateProcessing",
               "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
               "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                        {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
               "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [128000], "tokens": ["<|begin_of_text|>"]}}}
            ]}
            """);
    }

    /// <summary>Newer SentencePiece-BPE exports: no normalizer, a Metaspace pre-tokenizer that
    /// prepends '▁' to the first piece only and does not split.</summary>
    private static void UseMetaspacePreTokenizer(JsonObject json)
    {
        json["normalizer"] = null;
        json["pre_tokenizer"] = JsonNode.Parse("""
            {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false}
            """);
    }

    private static int[] Ids(JsonNode array) => [.. array.AsArray().Select(n => (int)n!)];

    public sealed record ReferenceEncoding(int[] Ids, int[] IdsNoSpecial, string Decoded, string DecodedSkip);

    public sealed record ReferenceDecoding(int[] Ids, string Text, string TextSkip, string TextCleanUp);

    public sealed class ModelCase(string name, Tokenizer tokenizer, bool nfc, IReadOnlyList<string> texts)
    {
        public string Name { get; } = name;
        public Tokenizer Tokenizer { get; } = tokenizer;

        /// <summary>Whether the tokenizer normalizes to NFC (Qwen).</summary>
        public bool Nfc { get; } = nfc;

        /// <summary>The corpus, then the lone-surrogate texts as HF would see them.</summary>
        public IReadOnlyList<string> Texts { get; } = texts;
        public required IReadOnlyList<ReferenceEncoding> Encodings { get; init; }

        /// <summary>Id lists built by the reference (byte tokens, special tokens) and their decodings.</summary>
        public required IReadOnlyList<ReferenceDecoding> Decodings { get; init; }

        /// <summary>The reference pre-tokenizer's pieces of each corpus text; null without one.</summary>
        public IReadOnlyList<IReadOnlyList<string>>? PreTokens { get; init; }

        public override string ToString() => Name;
    }
}
