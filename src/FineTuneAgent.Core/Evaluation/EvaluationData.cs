using System.Text.Json;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Modeling.Chat;

namespace FineTuneAgent.Core.Evaluation;

/// <summary>
/// The file <c>fta eval --data</c> names: JSON or JSON Lines rows, Alpaca (instruction/input/output) or ShareGPT
/// (a <c>conversations</c> or <c>messages</c> list), told apart by the first row's fields. Read through the dataset
/// pipeline's readers, so a bad row is reported with its file and line.
/// </summary>
public static class EvaluationData
{
    public static DatasetDescription Describe(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new DatasetException("dataset file not found", new SourceLocation(path));
        var rows = DatasetFileReader.Read(path, bad => throw bad);
        var first = rows[0].Value;
        var chat = first.ValueKind == JsonValueKind.Object && (first.TryGetProperty("conversations", out _) || first.TryGetProperty("messages", out _));
        return chat ? DatasetDescription.ShareGpt(Path.GetFullPath(path)) : DatasetDescription.Alpaca(Path.GetFullPath(path));
    }

    /// <summary>The first <paramref name="maxSamples"/> rows (all when null) that end on an assistant turn with text.</summary>
    public static IReadOnlyList<EvaluationPrompt> Prompts(DatasetDescription description, int? maxSamples)
    {
        var prompts = new List<EvaluationPrompt>();
        foreach (var example in DatasetReader.Read(description).Examples)
        {
            if (prompts.Count == maxSamples)
                break;
            var messages = example.Conversation.Messages;
            if (messages.Count < 2 || messages[^1].Role != ChatRoles.Assistant || string.IsNullOrWhiteSpace(messages[^1].Content))
                continue;
            var prompt = new Conversation(messages.Take(messages.Count - 1).ToList()) { Tools = example.Conversation.Tools };
            prompts.Add(new EvaluationPrompt(prompt, messages[^1].Content, example.At));
        }
        if (prompts.Count == 0)
            throw new DatasetException("no row ends on an assistant answer to generate against", new SourceLocation(description.FilePath));
        return prompts;
    }

    /// <summary>
    /// Writes conversations as ShareGPT JSON Lines (<c>{"messages": [{"role", "content"}]}</c>), the form
    /// <see cref="Describe"/> reads back: how a run's held-out rows become the evaluation file beside its output.
    /// </summary>
    public static void WriteShareGpt(string path, IEnumerable<Conversation> conversations)
    {
        var temp = path + ".tmp";
        using (var writer = new StreamWriter(temp, append: false, new System.Text.UTF8Encoding(false)))
        {
            foreach (var c in conversations)
            {
                var messages = new System.Text.Json.Nodes.JsonArray();
                foreach (var m in c.Messages)
                    messages.Add(new System.Text.Json.Nodes.JsonObject { ["role"] = m.Role, ["content"] = m.Content });
                writer.WriteLine(new System.Text.Json.Nodes.JsonObject { ["messages"] = messages }.ToJsonString());
            }
        }
        File.Move(temp, path, overwrite: true);
    }
}
