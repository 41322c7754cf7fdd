using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Modeling.Chat;

namespace FineTuneAgent.Core.Tests.Datasets;

/// <summary>Labels against the real Qwen3 and Llama 3 tokenizers: loss exactly on the answers and their end-of-turn tokens.</summary>
public sealed class LossMaskTests : IDisposable
{
    private readonly DatasetTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private TrainingSequence One(string row, DatasetFormat format, IChatFormat chat, bool thinking = true, ChatLossScope scope = ChatLossScope.AllAssistantTurns)
    {
        var path = _files.Lines("d.jsonl", row);
        var request = new DatasetRequest([new DatasetSource(new DatasetDescription(path) { Format = format })]) { EnableThinking = thinking, LossScope = scope };
        var tokenizer = chat.Name == "qwen3" ? RealTokenizers.Qwen3 : RealTokenizers.Llama3;
        return DatasetPipeline.Prepare(request, tokenizer, chat, [], null).Train.Single();
    }

    [Fact]
    public void Qwen3_ThinkingOff_LossIsTheAnswerAndImEnd()
    {
        var row = One("""{"instruction": "Hi", "output": "Hello!", "system": "You are helpful."}""", DatasetFormat.Alpaca, ChatFormats.Qwen3, thinking: false);

        Assert.Equal(["Hello!<|im_end|>"], LossRuns.Decode(row, RealTokenizers.Qwen3));
        Assert.Equal("<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n\n",
            LossRuns.Prompt(row, RealTokenizers.Qwen3));
        Assert.Equal(RealTokenizers.Qwen3.TokenToId("<|im_end|>"), row.Labels[^2]);
        Assert.Equal(TokenizedExample.IgnoreIndex, row.Labels[^1]); // the newline after <|im_end|>
    }

    [Fact]
    public void Qwen3_ThinkingOn_FinalTurnLearnsItsEmptyThinkBlock()
    {
        var row = One("""{"instruction": "Hi", "output": "Hello!"}""", DatasetFormat.Alpaca, ChatFormats.Qwen3);

        Assert.Equal(["<think>\n\n</think>\n\nHello!<|im_end|>"], LossRuns.Decode(row, RealTokenizers.Qwen3));
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n\n", LossRuns.Prompt(row, RealTokenizers.Qwen3));
    }

    [Fact]
    public void Qwen3_MultiTurn_EveryAssistantTurnHasLossByDefault()
    {
        const string row = """{"conversations": [{"from": "human", "value": "Q1"}, {"from": "gpt", "value": "A1"}, {"from": "human", "value": "Q2"}, {"from": "gpt", "value": "A2"}]}""";

        var all = One(row, DatasetFormat.ShareGpt, ChatFormats.Qwen3, thinking: false);
        var last = One(row, DatasetFormat.ShareGpt, ChatFormats.Qwen3, thinking: false, scope: ChatLossScope.LastAssistantTurn);

        Assert.Equal(["A1<|im_end|>", "A2<|im_end|>"], LossRuns.Decode(all, RealTokenizers.Qwen3));
        Assert.Equal(["A2<|im_end|>"], LossRuns.Decode(last, RealTokenizers.Qwen3));
    }

    [Fact]
    public void Llama3_LossIsTheAnswerAndEotId()
    {
        var row = One("""{"instruction": "Hi", "output": "Hello!"}""", DatasetFormat.Alpaca, ChatFormats.Llama3);

        Assert.Equal(["Hello!<|eot_id|>"], LossRuns.Decode(row, RealTokenizers.Llama3));
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            LossRuns.Prompt(row, RealTokenizers.Llama3));
        Assert.Equal(1, row.InputIds.Count(id => id == RealTokenizers.Llama3.BosTokenId)); // BOS once, not doubled
    }

    [Fact]
    public void Llama3_MultiTurn_EachTurnEndsWithEotIdInLoss()
    {
        var row = One("""{"instruction": "Q2", "output": "A2", "history": [["Q1", "A1"]]}""", DatasetFormat.Alpaca, ChatFormats.Llama3);

        Assert.Equal(["A1<|eot_id|>", "A2<|eot_id|>"], LossRuns.Decode(row, RealTokenizers.Llama3));
    }

    [Fact]
    public void Qwen3_ReasoningColumn_RendersAsThinkBlockWithLoss()
    {
        var row = One("""{"instruction": "Hi", "output": "Hello!", "reasoning": "Greet back."}""", DatasetFormat.Alpaca, ChatFormats.Qwen3);

        Assert.Equal(["<think>\nGreet back.\n</think>\n\nHello!<|im_end|>"], LossRuns.Decode(row, RealTokenizers.Qwen3));
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\nGreet back.\n</think>\n\nHello!<|im_end|>\n",
            RealTokenizers.Qwen3.Decode(row.InputIds));
    }

    [Fact]
    public void Qwen3_ShareGptReasoningContent_HistoryReasoningDroppedFinalKept()
    {
        var row = One(
            """{"messages": [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1", "reasoning_content": "r1"}, {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "A2", "reasoning_content": "r2"}]}""",
            DatasetFormat.ShareGpt, ChatFormats.Qwen3);

        Assert.Equal("<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n<think>\nr2\n</think>\n\nA2<|im_end|>\n",
            RealTokenizers.Qwen3.Decode(row.InputIds));
        Assert.Equal(["A1<|im_end|>", "<think>\nr2\n</think>\n\nA2<|im_end|>"], LossRuns.Decode(row, RealTokenizers.Qwen3));
    }

    [Fact]
    public void Llama3_Reasoning_IsDroppedWithAWarning()
    {
        var path = _files.Lines("r.jsonl", """{"instruction": "Hi", "output": "Hello!", "reasoning": "Greet back."}""");
        var result = DatasetPipeline.Prepare(DatasetRequest.For(DatasetDescription.Alpaca(path)), RealTokenizers.Llama3, ChatFormats.Llama3, [], null);

        Assert.Equal(["Hello!<|eot_id|>"], LossRuns.Decode(result.Train.Single(), RealTokenizers.Llama3));
        Assert.Contains(result.Summary.Warnings, w => w.Contains("reasoning", StringComparison.Ordinal) && w.Contains("llama3", StringComparison.Ordinal));
    }
}
