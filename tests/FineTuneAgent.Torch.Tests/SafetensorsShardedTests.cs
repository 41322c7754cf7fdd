using static FineTuneAgent.Torch.Tests.SafetensorsTestFiles;

namespace FineTuneAgent.Torch.Tests;

public sealed class SafetensorsShardedTests
{
    [Fact]
    public void SaveSharded_OverTheLimit_WritesNumberedShardsAndTransformersStyleIndex()
    {
        using var folder = new TempFolder();
        using var w0 = randn(4, 4);   // 64 bytes
        using var b0 = randn(4);      // 16
        using var w1 = randn(4, 4);   // 64
        using var b1 = randn(4);      // 16
        using var embed = zeros([10, 4], ScalarType.BFloat16); // 80
        var tensors = new Dictionary<string, Tensor>
        {
            ["layers.0.w"] = w0, ["layers.0.b"] = b0, ["layers.1.w"] = w1, ["layers.1.b"] = b1, ["embed"] = embed,
        };

        var written = Safetensors.SaveSharded(folder.Path, tensors, maxShardBytes: 100, new Dictionary<string, string> { ["format"] = "pt" });

        Assert.Equal(
            ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors", "model.safetensors.index.json"],
            written.Select(Path.GetFileName));
        Assert.Equal(written.Select(Path.GetFileName).Order(StringComparer.Ordinal), folder.FileNames());
        const string expectedIndex = """
            {
              "metadata": {
                "total_size": 240
              },
              "weight_map": {
                "embed": "model-00003-of-00003.safetensors",
                "layers.0.b": "model-00001-of-00003.safetensors",
                "layers.0.w": "model-00001-of-00003.safetensors",
                "layers.1.b": "model-00002-of-00003.safetensors",
                "layers.1.w": "model-00002-of-00003.safetensors"
              }
            }

            """;
        Assert.Equal(expectedIndex, File.ReadAllText(folder.File("model.safetensors.index.json")));
        using (var shard = SafetensorsFile.Open(folder.File("model-00002-of-00003.safetensors")))
        {
            Assert.Equal(["layers.1.b", "layers.1.w"], shard.Names); // same dtype, so by name
            Assert.Equal("pt", shard.Metadata["format"]);
        }

        var loaded = Safetensors.Load(folder.Path);
        try
        {
            Assert.Equal(tensors.Keys.Order(), loaded.Keys.Order());
            foreach (var (name, t) in tensors)
                Assert.Equal(t.bytes, loaded[name].bytes);
        }
        finally
        {
            foreach (var t in loaded.Values)
                t.Dispose();
        }
    }

    [Fact]
    public void SaveSharded_TensorLargerThanLimit_GetsAShardOfItsOwn()
    {
        using var a = zeros(2);
        using var big = zeros(100);
        using var c = zeros(2);
        var plan = ShardedSafetensorsWriter.Plan(new Dictionary<string, Tensor> { ["a"] = a, ["big"] = big, ["c"] = c }, 16);

        Assert.Equal(new[] { new[] { "a" }, ["big"], ["c"] }, plan.Select(s => s.Keys.ToArray()));
    }

    [Fact]
    public void SaveSharded_FitsInOneShard_WritesPlainFileAndRemovesAnEarlierShardedSave()
    {
        using var folder = new TempFolder();
        using var a = ones(8);
        using var b = ones(8);
        var tensors = new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b };
        Safetensors.SaveSharded(folder.Path, tensors, maxShardBytes: 32);
        folder.Write("README.md", [1]);
        Assert.Equal(["README.md", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"], folder.FileNames());

        var written = Safetensors.SaveSharded(folder.Path, tensors, "5GB");

        Assert.Equal([folder.File("model.safetensors")], written);
        Assert.Equal(["README.md", "model.safetensors"], folder.FileNames());
        using var reader = Safetensors.Open(folder.Path);
        Assert.IsType<SafetensorsFile>(reader);
        Assert.Equal(["a", "b"], reader.Names);
    }

    [Fact]
    public void Open_ShardCorrupt_OtherShardsStillLoadAndErrorNamesTheShard()
    {
        using var folder = new TempFolder();
        using var a = ones(4);
        using var b = ones(4);
        Safetensors.SaveSharded(folder.Path, new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b }, maxShardBytes: 16);
        var second = folder.Write("model-00002-of-00002.safetensors", [1, 2, 3]);

        using var reader = ShardedSafetensors.Open(folder.File(Safetensors.IndexFileName));
        using var loaded = reader.Load("a");
        var e = Assert.Throws<SafetensorsException>(() => reader.Load("b"));

        Assert.Equal(second, e.Path);
        Assert.Equal([1f, 1, 1, 1], loaded.data<float>());
    }

    [Fact]
    public void Open_IndexNamesMissingShard_ThrowsNamingIndexAndShard()
    {
        using var folder = new TempFolder();
        var index = folder.Write("model.safetensors.index.json",
            """{"metadata":{"total_size":4},"weight_map":{"a":"model-00001-of-00002.safetensors"}}"""u8.ToArray());

        var e = Assert.Throws<FileNotFoundException>(() => ShardedSafetensors.Open(index));

        Assert.Contains(index, e.Message);
        Assert.Contains("model-00001-of-00002.safetensors", e.Message);
        Assert.Equal(folder.File("model-00001-of-00002.safetensors"), e.FileName);
    }

    [Fact]
    public void Load_TensorInIndexButNotInItsShard_ThrowsNamingIndexShardAndTensor()
    {
        using var folder = new TempFolder();
        using var a = ones(1);
        Safetensors.Save(folder.File("model-00001-of-00001.safetensors"), new Dictionary<string, Tensor> { ["a"] = a });
        var index = folder.Write("model.safetensors.index.json",
            """{"metadata":{"total_size":8,"total_parameters":2},"weight_map":{"a":"model-00001-of-00001.safetensors","ghost":"model-00001-of-00001.safetensors"}}"""u8.ToArray());

        using var reader = ShardedSafetensors.Open(index);
        using var loaded = reader.Load("a");
        var e = Assert.Throws<SafetensorsException>(() => reader.Load("ghost"));

        Assert.Equal(
            $"{index}: tensor 'ghost': the index puts it in shard 'model-00001-of-00001.safetensors', but {folder.File("model-00001-of-00001.safetensors")} has no such tensor",
            e.Message);
        Assert.Equal(8, reader.Index.TotalSize);
        Assert.Equal("2", reader.Index.Metadata["total_parameters"]);
    }

    [Theory]
    [InlineData("../model.safetensors")]
    [InlineData("/etc/passwd")]
    public void Open_IndexPointingOutsideItsFolder_Throws(string shard)
    {
        using var folder = new TempFolder();
        var index = folder.Write("model.safetensors.index.json",
            System.Text.Encoding.UTF8.GetBytes("{\"weight_map\":{\"a\":\"" + shard + "\"}}"));

        var e = Assert.Throws<SafetensorsException>(() => ShardedSafetensors.Open(index));

        Assert.Equal($"{index}: shard name '{shard}' is not a plain file name in the index's folder", e.Message);
    }

    [Theory]
    [InlineData("{\"metadata\":{}}", "index has no weight_map object")]
    [InlineData("{\"weight_map\":{\"a\":3}}", "tensor 'a': weight_map value must be a shard file name, found 3")]
    [InlineData("{\"weight_map\":", "index is not valid JSON")]
    public void Open_MalformedIndex_ThrowsNamingIndex(string json, string fault)
    {
        using var folder = new TempFolder();
        var index = folder.Write("model.safetensors.index.json", System.Text.Encoding.UTF8.GetBytes(json));

        var e = Assert.Throws<SafetensorsException>(() => ShardedSafetensors.Open(index));

        Assert.StartsWith($"{index}: ", e.Message);
        Assert.Contains(fault, e.Message);
    }

    [Fact]
    public void IndexToJson_NonAsciiNames_EscapedAsPythonEnsureAscii()
    {
        var index = new SafetensorsIndex(0, new Dictionary<string, string> { ["é\U0001F600\u007f"] = "m.safetensors" });

        Assert.Equal(
            "{\n  \"metadata\": {\n    \"total_size\": 0\n  },\n  \"weight_map\": {\n    \"\\u00e9\\ud83d\\ude00\\u007f\": \"m.safetensors\"\n  }\n}\n",
            index.ToJson());
    }

    [Theory]
    [InlineData("5GB", 5_000_000_000)]
    [InlineData("5GiB", 5L << 30)]
    [InlineData("500MB", 500_000_000)]
    [InlineData("2mib", 2L << 20)]
    [InlineData("10KB", 10_000)]
    [InlineData("5Gb", 625_000_000)]
    [InlineData("123", 123)]
    public void ParseSize_TransformersUnits_GivesBytes(string text, long bytes) =>
        Assert.Equal(bytes, Safetensors.ParseSize(text));

    [Theory]
    [InlineData("")]
    [InlineData("GB")]
    [InlineData("-5GB")]
    [InlineData("5 parsecs")]
    public void ParseSize_NotASize_ThrowsFormatException(string text) =>
        Assert.Throws<FormatException>(() => Safetensors.ParseSize(text));
}
