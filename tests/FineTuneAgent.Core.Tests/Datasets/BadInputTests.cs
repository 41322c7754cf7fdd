using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Modeling.Chat;

namespace FineTuneAgent.Core.Tests.Datasets;

/// <summary>Every bad input names the file and line (and column or field where there is one).</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly DatasetTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static DatasetException ReadFails(DatasetDescription d) =>
        Assert.Throws<DatasetException>(() => DatasetReader.Read(d));

    [Fact]
    public void MalformedJsonLine_NamesFileLineAndColumn()
    {
        var path = _files.Lines("bad.jsonl",
            """{"instruction": "a", "output": "1"}""",
            """{"instruction": "b", "output": "2}""",
            """{"instruction": "c", "output": "3"}""");

        var e = ReadFails(DatasetDescription.Alpaca(path));

        Assert.Equal(path, e.File);
        Assert.Equal(2, e.Line);
        Assert.NotNull(e.Column);
        Assert.StartsWith($"{path}:2:{e.Column}: malformed JSON line", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MalformedJsonArray_NamesLineAndElement()
    {
        var path = _files.Write("bad.json", "[\n  {\"instruction\": \"a\", \"output\": \"1\"},\n  {\"instruction\": \"b\" \"output\": \"2\"}\n]\n");

        var e = ReadFails(DatasetDescription.Alpaca(path));

        Assert.Equal(3, e.Line);
        Assert.Equal(1, e.At!.Value.Element);
        Assert.Contains("malformed JSON", e.Message, StringComparison.Ordinal);
        Assert.Contains("(element 1)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedJsonArray_IsReported()
    {
        var path = _files.Write("cut.json", "[\n  {\"instruction\": \"a\", \"output\": \"1\"},\n  {\"instruction\": \"b\", \"out");

        var e = ReadFails(DatasetDescription.Alpaca(path));

        Assert.Equal(path, e.File);
        Assert.Equal(3, e.Line);
    }

    [Fact]
    public void MissingColumn_NamesLineFieldAndMappingKey()
    {
        var path = _files.Lines("m.jsonl",
            """{"instruction": "a", "output": "1"}""",
            """{"instruction": "b", "answer": "2"}""");

        var e = ReadFails(DatasetDescription.Alpaca(path));

        Assert.Equal(2, e.Line);
        Assert.Equal("output", e.Field);
        Assert.Equal($"{path}:2: field 'output': missing column (columns.response); the row has: instruction, answer", e.Message);
    }

    [Fact]
    public void WrongType_NamesFieldAndTypes()
    {
        var path = _files.Write("w.json", "[\n{\"instruction\": \"a\", \"output\": 5}\n]");

        var e = ReadFails(DatasetDescription.Alpaca(path));

        Assert.Equal($"{path}:2 (element 0): field 'output': must be a string, got a number", e.Message);
    }

    [Fact]
    public void WrongHistoryShape_NamesTheHistoryEntry()
    {
        var path = _files.Lines("h.jsonl", """{"instruction": "a", "output": "1", "history": [["q", "a"], ["only one"]]}""");

        var e = ReadFails(DatasetDescription.Alpaca(path));

        Assert.Equal("history[1]", e.Field);
        Assert.Equal(1, e.Line);
    }

    [Fact]
    public void ShareGptRolesOutOfOrder_NamesTheMessage()
    {
        var path = _files.Lines("s.jsonl",
            """{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}""",
            """{"conversations": [{"from": "human", "value": "a"}, {"from": "human", "value": "b"}]}""");

        var e = ReadFails(DatasetDescription.ShareGpt(path));

        Assert.Equal(2, e.Line);
        Assert.Equal("conversations[1].from", e.Field);
        Assert.Contains("expected an assistant turn", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShareGptUnknownRole_NamesTheRole()
    {
        var path = _files.Lines("s.jsonl", """{"conversations": [{"from": "narrator", "value": "a"}, {"from": "gpt", "value": "b"}]}""");

        var e = ReadFails(DatasetDescription.ShareGpt(path));

        Assert.Contains("unknown role 'narrator'", e.Message, StringComparison.Ordinal);
        Assert.Equal("conversations[0].from", e.Field);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n\n  \n")]
    public void EmptyFile_IsAnError(string content)
    {
        var path = _files.Write("empty.jsonl", content);

        var e = ReadFails(DatasetDescription.Alpaca(path));

        Assert.Equal($"{path}: the file is empty (expected a JSON array of rows or JSON Lines)", e.Message);
    }

    [Fact]
    public void EmptyJsonArray_IsAnError()
    {
        var path = _files.Write("empty.json", "[]");

        Assert.Equal($"{path}:1: the file holds no rows", ReadFails(DatasetDescription.Alpaca(path)).Message);
    }

    [Fact]
    public void OnePrettyPrintedObject_IsExplained()
    {
        var path = _files.Write("one.json", "{\n  \"instruction\": \"a\",\n  \"output\": \"1\"\n}\n");

        Assert.Contains("holds one JSON object", ReadFails(DatasetDescription.Alpaca(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RowNotAnObject_IsAnError()
    {
        var lines = _files.Lines("n.jsonl", """{"instruction": "a", "output": "1"}""", """["a", "b"]""");
        var array = _files.Write("n.json", """["a", "b"]""");

        Assert.Equal($"{lines}:2: a row must be a JSON object, got an array", ReadFails(DatasetDescription.Alpaca(lines)).Message);
        Assert.Equal($"{array}:1 (element 0): a row must be a JSON object, got a string", ReadFails(DatasetDescription.Alpaca(array)).Message);
    }

    [Fact]
    public void AllRowsFilteredOut_NamesFileAndReasons()
    {
        var path = _files.Lines("f.jsonl",
            """{"instruction": "a", "output": " "}""",
            """{"instruction": "b", "output": ""}""");

        var e = Assert.Throws<DatasetException>(() =>
            DatasetPipeline.Prepare(DatasetRequest.For(DatasetDescription.Alpaca(path)), RealTokenizers.Qwen3, ChatFormats.Qwen3, [], null));

        Assert.Equal(path, e.File);
        Assert.Equal($"{path}: all 2 rows were filtered out: EmptyAnswer 2 (first at {path}:1, {path}:2)", e.Message);
    }

    [Fact]
    public void UnknownFormatInDatasetInfo_NamesInfoFileLineAndKey()
    {
        var info = _files.Write("dataset_info.json", "{\n  \"ok\": {\"file_name\": \"a.jsonl\"},\n  \"bad\": {\"file_name\": \"b.jsonl\", \"formatting\": \"openai-chat\"}\n}\n");

        var e = Assert.Throws<DatasetException>(() => DatasetInfoFile.Load(info));

        Assert.Equal($"{info}:3: field 'formatting': unknown dataset format 'openai-chat' (expected alpaca or sharegpt)", e.Message);
    }

    [Fact]
    public void UnknownColumnKeyInDatasetInfo_IsReported()
    {
        var info = _files.Write("dataset_info.json", "{\"x\": {\"file_name\": \"a.jsonl\", \"columns\": {\"promt\": \"q\"}}}");

        var e = Assert.Throws<DatasetException>(() => DatasetInfoFile.Load(info));

        Assert.Equal("columns.promt", e.Field);
        Assert.Equal(1, e.Line);
    }

    [Fact]
    public void UnknownFormatName_IsAnError()
    {
        var e = Assert.Throws<DatasetException>(() => DatasetFormats.Parse("csv"));

        Assert.Contains("unknown dataset format 'csv'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SkipBadRows_CountsThemAndKeepsTheRest()
    {
        var path = _files.Lines("mixed.jsonl",
            """{"instruction": "a", "output": "1"}""",
            """{"instruction": "b", "output": """,
            """{"instruction": "c"}""",
            """{"instruction": "d", "output": "4"}""");

        var read = DatasetReader.Read(DatasetDescription.Alpaca(path), skipBadRows: true);
        var prepared = DatasetPipeline.Prepare(DatasetRequest.For(DatasetDescription.Alpaca(path)) with { SkipBadRows = true }, RealTokenizers.Qwen3, ChatFormats.Qwen3, [], null);

        Assert.Equal(4, read.Rows);
        Assert.Equal(2, read.Examples.Count);
        Assert.Equal([2, 3], read.BadRows.Select(b => b.Line!.Value));
        var source = prepared.Summary.Sources.Single();
        Assert.Equal(2, source.BadRows);
        Assert.StartsWith($"{path}:2:", source.FirstBadRows[0], StringComparison.Ordinal);
        Assert.Equal(2, source.Kept);
        Assert.Equal(2, prepared.Train.Count);
    }

    [Fact]
    public void MissingFile_IsNamed()
    {
        var path = Path.Combine(_files.Folder, "nope.jsonl");

        Assert.Equal($"{path}: dataset file not found", ReadFails(DatasetDescription.Alpaca(path)).Message);
    }
}
