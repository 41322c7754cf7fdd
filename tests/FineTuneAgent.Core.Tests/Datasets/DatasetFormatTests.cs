using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Modeling.Chat;

namespace FineTuneAgent.Core.Tests.Datasets;

public sealed class DatasetFormatTests : IDisposable
{
    private readonly DatasetTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static string Show(Conversation c) =>
        string.Join(" | ", c.Messages.Select(m =>
            m.Role + ":" + m.Content
            + (m.ReasoningContent is null ? "" : " [r:" + m.ReasoningContent + "]")
            + string.Concat(m.ToolCalls.Select(t => " [call " + t.Name + " " + t.Arguments.GetRawText() + "]"))));

    [Fact]
    public void Alpaca_SystemHistoryInstructionInput_BecomesOneConversation()
    {
        var path = _files.Lines("a.jsonl",
            """{"instruction": "Translate", "input": "cat", "output": "猫", "system": "Be brief.", "history": [["Hi", "Hello!"], ["2+2?", "4"]]}""",
            """{"instruction": "Say hi", "input": "", "output": "Hi!"}""",
            """{"instruction": "", "input": "only input", "output": "ok"}""");

        var read = DatasetReader.Read(DatasetDescription.Alpaca(path));

        Assert.Equal(3, read.Rows);
        Assert.Equal("system:Be brief. | user:Hi | assistant:Hello! | user:2+2? | assistant:4 | user:Translate\ncat | assistant:猫", Show(read.Examples[0].Conversation));
        Assert.Equal("user:Say hi | assistant:Hi!", Show(read.Examples[1].Conversation));
        Assert.Equal("user:only input | assistant:ok", Show(read.Examples[2].Conversation));
        Assert.Equal([1, 2, 3], read.Examples.Select(e => e.At.Line!.Value));
    }

    [Fact]
    public void ShareGpt_FromValueWithToolTurns_MapsRolesAndToolCalls()
    {
        var path = _files.Lines("s.jsonl",
            """{"conversations": [{"from": "system", "value": "S"}, {"from": "human", "value": "Weather in Paris?"}, {"from": "function_call", "value": "{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\"}}"}, {"from": "observation", "value": "sunny"}, {"from": "gpt", "value": "It is sunny."}], "tools": "[{\"name\": \"weather\", \"parameters\": {}}]"}""");

        var c = DatasetReader.Read(DatasetDescription.ShareGpt(path)).Examples.Single().Conversation;

        Assert.Equal("""system:S | user:Weather in Paris? | assistant: [call weather {"city": "Paris"}] | tool:sunny | assistant:It is sunny.""", Show(c));
        Assert.Equal("""{"type":"function","function":{"name":"weather","parameters":{}}}""", c.Tools.Single().GetRawText());
    }

    [Fact]
    public void ShareGpt_MessagesWithRoleContent_NeedsNoTags()
    {
        var path = _files.Lines("m.jsonl",
            """{"messages": [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "A2"}], "system": "Sys"}""");

        var c = DatasetReader.Read(DatasetDescription.ShareGpt(path)).Examples.Single().Conversation;

        Assert.Equal("system:Sys | user:Q1 | assistant:A1 | user:Q2 | assistant:A2", Show(c));
    }

    [Fact]
    public void Read_JsonArrayAndJsonLines_GiveTheSameConversationsWithLines()
    {
        var jsonl = _files.Lines("x.data",
            """{"instruction": "a", "output": "1"}""",
            "",
            """{"instruction": "b", "output": "2"}""");
        var json = _files.Write("y.data", """
            [
              {"instruction": "a", "output": "1"},
              {
                "instruction": "b",
                "output": "2"
              }
            ]
            """);

        var fromLines = DatasetReader.Read(DatasetDescription.Alpaca(jsonl)).Examples;
        var fromArray = DatasetReader.Read(DatasetDescription.Alpaca(json)).Examples;

        Assert.Equal(fromLines.Select(e => Show(e.Conversation)), fromArray.Select(e => Show(e.Conversation)));
        Assert.Equal([1, 3], fromLines.Select(e => e.At.Line!.Value));
        Assert.Equal([null, null], fromLines.Select(e => e.At.Element));
        Assert.Equal([2, 3], fromArray.Select(e => e.At.Line!.Value));
        Assert.Equal([0, 1], fromArray.Select(e => e.At.Element!.Value));
    }

    [Fact]
    public void DatasetInfo_ColumnsAndTags_MapCustomFieldNames()
    {
        _files.Lines("alpaca_custom.jsonl", """{"q": "Capital of France?", "ctx": "", "a": "Paris", "sys": "S", "why": "It is well known."}""");
        _files.Lines("chat_custom.jsonl", """{"dialog": [{"speaker": "me", "text": "Hi"}, {"speaker": "bot", "text": "Hello"}]}""");
        var info = _files.Write("dataset_info.json", """
            {
              "alp": {"file_name": "alpaca_custom.jsonl", "columns": {"prompt": "q", "query": "ctx", "response": "a", "system": "sys", "reasoning": "why"}},
              "chat": {
                "file_name": "chat_custom.jsonl",
                "formatting": "sharegpt",
                "columns": {"messages": "dialog"},
                "tags": {"role_tag": "speaker", "content_tag": "text", "user_tag": "me", "assistant_tag": "bot"}
              }
            }
            """);

        var all = DatasetInfoFile.Load(info);

        Assert.Equal(DatasetFormat.Alpaca, all["alp"].Format);
        Assert.Equal(DatasetFormat.ShareGpt, all["chat"].Format);
        Assert.Equal("system:S | user:Capital of France? | assistant:Paris [r:It is well known.]", Show(DatasetReader.Read(all["alp"]).Examples.Single().Conversation));
        Assert.Equal("user:Hi | assistant:Hello", Show(DatasetReader.Read(all["chat"]).Examples.Single().Conversation));
        Assert.Equal(Path.Combine(_files.Folder, "chat_custom.jsonl"), all["chat"].FilePath);
    }
}
