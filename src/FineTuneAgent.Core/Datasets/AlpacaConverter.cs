using System.Text.Json;
using FineTuneAgent.Modeling.Chat;

namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// An Alpaca row to a conversation, as LLaMA-Factory's <c>_convert_alpaca</c> does: optional system;
/// each history pair [query, answer] as a user and an assistant turn; then the user turn
/// <c>instruction + "\n" + input</c> (either part left out when empty) and the assistant's
/// <c>output</c>, with the row's reasoning, if any, as that answer's reasoning.
/// </summary>
internal static class AlpacaConverter
{
    public static Conversation Convert(RawRow row, DatasetColumns columns)
    {
        var f = new RowFields(row);
        var messages = new List<ChatMessage>();
        if (f.OptionalString(columns.System) is { Length: > 0 } system)
            messages.Add(ChatMessage.System(system));

        if (f.OptionalArray(columns.History) is { } history)
        {
            var k = 0;
            foreach (var pair in history.EnumerateArray())
            {
                var field = $"{columns.History}[{k}]";
                if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2
                    || pair[0].ValueKind != JsonValueKind.String || pair[1].ValueKind != JsonValueKind.String)
                    throw f.Error($"must be a [query, answer] pair of strings, got {Describe(pair)}", field);
                messages.Add(ChatMessage.User(pair[0].GetString()!));
                messages.Add(ChatMessage.Assistant(pair[1].GetString()!));
                k++;
            }
        }

        var instruction = f.RequiredString(columns.Prompt, "prompt");
        var input = f.OptionalString(columns.Query);
        var query = string.IsNullOrEmpty(input) ? instruction : instruction.Length == 0 ? input : instruction + "\n" + input;
        messages.Add(ChatMessage.User(query));
        var output = f.RequiredString(columns.Response, "response");
        messages.Add(ChatMessage.Assistant(output, f.OptionalString(columns.Reasoning)));
        return new Conversation(messages);
    }

    private static string Describe(JsonElement e) =>
        e.ValueKind == JsonValueKind.Array ? $"an array of {e.GetArrayLength()} ({string.Join(", ", e.EnumerateArray().Select(RowFields.Kind))})" : RowFields.Kind(e);
}
