using System.Text.Json;

namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// What we use from transformers' <c>tokenizer_config.json</c>: the names of the bos/eos/pad/unk
/// tokens, the chat template, decoding's space clean-up flag, and <c>added_tokens_decoder</c>.
/// </summary>
public sealed record TokenizerConfig
{
    public string? BosToken { get; init; }
    public string? EosToken { get; init; }
    public string? PadToken { get; init; }
    public string? UnkToken { get; init; }

    /// <summary>The Jinja chat template (the "default" one when the file lists several).</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>transformers' <c>clean_up_tokenization_spaces</c> (default false here, unlike transformers' true).</summary>
    public bool CleanUpTokenizationSpaces { get; init; }

    /// <summary><c>add_bos_token</c>/<c>add_eos_token</c> as written; informational, since
    /// tokenizer.json's post-processor is what adds special tokens.</summary>
    public bool? AddBosToken { get; init; }
    public bool? AddEosToken { get; init; }

    /// <summary>Tokens listed in <c>added_tokens_decoder</c>.</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; init; } = [];

    public static TokenizerConfig Empty { get; } = new();

    /// <summary>Reads a tokenizer_config.json; errors name the file and the field.</summary>
    public static TokenizerConfig Load(string path)
    {
        using var document = JsonFile.Parse(path);
        var root = document.RootElement;
        var json = new JsonFields(path);
        json.RequireKind(root, JsonValueKind.Object, "(root)");
        var addedTokens = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens_decoder", out var decoder) && decoder.ValueKind != JsonValueKind.Null)
        {
            json.RequireKind(decoder, JsonValueKind.Object, "added_tokens_decoder");
            foreach (var entry in decoder.EnumerateObject())
            {
                var where = $"added_tokens_decoder[\"{entry.Name}\"]";
                if (!int.TryParse(entry.Name, out var id))
                {
                    throw json.Invalid(where, "the key is not a token id");
                }
                addedTokens.Add(json.ReadAddedToken(entry.Value, where, id));
            }
        }
        return new TokenizerConfig
        {
            BosToken = TokenName(json, root, "bos_token"),
            EosToken = TokenName(json, root, "eos_token"),
            PadToken = TokenName(json, root, "pad_token"),
            UnkToken = TokenName(json, root, "unk_token"),
            ChatTemplate = ReadChatTemplate(json, root),
            CleanUpTokenizationSpaces = json.OptionalBool(root, "clean_up_tokenization_spaces", "", false),
            AddBosToken = root.TryGetProperty("add_bos_token", out var bos) && bos.ValueKind is JsonValueKind.True or JsonValueKind.False ? bos.GetBoolean() : null,
            AddEosToken = root.TryGetProperty("add_eos_token", out var eos) && eos.ValueKind is JsonValueKind.True or JsonValueKind.False ? eos.GetBoolean() : null,
            AddedTokens = addedTokens,
        };
    }

    /// <summary>A special token given as a string or as an AddedToken object with "content".</summary>
    private static string? TokenName(JsonFields json, JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            return null;
        }
        return value.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object => json.RequiredString(value, "content", name),
            _ => throw json.Invalid(name, "expected a string, an object with \"content\", or null"),
        };
    }

    private static string? ReadChatTemplate(JsonFields json, JsonElement root)
    {
        if (!root.TryGetProperty("chat_template", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }
        json.RequireKind(value, JsonValueKind.Array, "chat_template");
        string? first = null;
        var i = 0;
        foreach (var named in value.EnumerateArray())
        {
            var where = $"chat_template[{i++}]";
            var name = json.RequiredString(named, "name", where);
            var template = json.RequiredString(named, "template", where);
            if (name == "default")
            {
                return template;
            }
            first ??= template;
        }
        return first;
    }
}
