using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FineTuneAgent.Bench.Tokenizer;

/// <summary>
/// A ~5 MB mixed corpus built from what any Debian machine has, so the benchmark needs no
/// download: English prose (package docs), code (Python's standard library and this repo's C#),
/// translated UI strings in ten languages (gettext catalogs: Chinese, Japanese, Korean, Russian,
/// German, French, Spanish, Vietnamese, Arabic, Hindi), and generated lines of numbers and emoji.
/// Rows of about 1 KB, like dataset rows, in a fixed order.
/// </summary>
internal static class Corpus
{
    private const int RowChars = 1000;

    public static List<string> Build(string repoRoot, out string composition)
    {
        var rows = new List<string>();
        var parts = new List<string>();
        void Add(string name, IEnumerable<string> pieces, long utf8Budget)
        {
            var before = rows.Count;
            long used = 0;
            var row = new StringBuilder();
            foreach (var piece in pieces)
            {
                if (used >= utf8Budget)
                {
                    break;
                }
                row.Append(piece);
                used += Encoding.UTF8.GetByteCount(piece);
                if (row.Length >= RowChars)
                {
                    rows.Add(row.ToString());
                    row.Clear();
                }
            }
            if (row.Length > 0)
            {
                rows.Add(row.ToString());
            }
            parts.Add($"{name} {used / 1e6:F2} MB in {rows.Count - before} rows");
        }

        Add("prose", Files("/usr/share/doc", f => Path.GetFileName(f) is "copyright" or "README" or "README.md" or "README.Debian")
            .SelectMany(Lines), 1_500_000);
        Add("code", Files(Path.Combine(repoRoot, "src"), f => f.EndsWith(".cs", StringComparison.Ordinal))
            .Concat(Files("/usr/lib/python3.11", f => f.EndsWith(".py", StringComparison.Ordinal)))
            .SelectMany(Lines), 1_250_000);
        string[] languages = ["zh_CN", "ja", "ko", "ru", "de", "fr", "es", "vi", "ar", "hi"];
        Add("translations", Interleave(languages.Select(l =>
            Files($"/usr/share/locale/{l}/LC_MESSAGES", f => f.EndsWith(".mo", StringComparison.Ordinal))
                .SelectMany(MoFile.Translations).Select(s => s + "\n"))), 2_000_000);
        Add("numbers+emoji", NumbersAndEmoji(), 250_000);
        composition = string.Join(", ", parts);
        return rows;
    }

    public static void WriteJsonLines(IEnumerable<string> rows, string path)
    {
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        foreach (var row in rows)
        {
            writer.WriteLine(JsonSerializer.Serialize(row));
        }
    }

    /// <summary>A file's lines, each with its line break, so rows can end between lines.</summary>
    private static IEnumerable<string> Lines(string path) =>
        File.ReadAllText(path).Split('\n').Select(line => line + "\n");

    private static IEnumerable<string> Files(string root, Func<string, bool> keep) =>
        Directory.Exists(root)
            ? Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Where(keep).Order(StringComparer.Ordinal)
            : [];

    private static IEnumerable<string> Interleave(IEnumerable<IEnumerable<string>> sources)
    {
        var enumerators = sources.Select(s => s.GetEnumerator()).ToList();
        while (enumerators.Count > 0)
        {
            for (var i = enumerators.Count - 1; i >= 0; i--)
            {
                if (enumerators[i].MoveNext())
                {
                    yield return enumerators[i].Current;
                }
                else
                {
                    enumerators.RemoveAt(i);
                }
            }
        }
    }

    private static IEnumerable<string> NumbersAndEmoji()
    {
        var random = new Random(5);
        string[] emoji = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🎉", "❤️", "🇺🇸", "🚀", "🤔"];
        while (true)
        {
            yield return string.Create(CultureInfo.InvariantCulture,
                $"Order #{random.Next(100000, 999999)}: {random.Next(1, 50)} × {random.NextDouble() * 1000:F2} = " +
                $"{random.NextInt64(1_000_000_000_000):N0} {emoji[random.Next(emoji.Length)]}{emoji[random.Next(emoji.Length)]} " +
                $"on {2000 + random.Next(30)}-{random.Next(1, 13):D2}-{random.Next(1, 29):D2} at {random.Next(24):D2}:{random.Next(60):D2}\n");
        }
    }
}
