using FineTuneAgent.Modeling.Chat;
using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// Renders a conversation through the model's chat format and tokenizes it segment by segment, so the
/// loss mask follows the format: prompt, system and user turns and assistant headers get
/// <see cref="TokenizedExample.IgnoreIndex"/>; assistant content and each assistant turn's end-of-turn
/// token (<c>&lt;|im_end|&gt;</c>, <c>&lt;|eot_id|&gt;</c>) keep their ids, so the model learns to stop.
/// Segments are encoded without adding special tokens: the formats write BOS themselves.
/// </summary>
internal sealed class ExampleEncoder(ITokenizer tokenizer, IChatFormat format, ChatRenderOptions options)
{
    public (int[] InputIds, int[] Labels) Encode(Conversation conversation)
    {
        var tokens = format.Render(conversation, options, text => tokenizer.Encode(text, addSpecialTokens: false));
        return (tokens.InputIds, tokens.Labels(TokenizedExample.IgnoreIndex));
    }
}
