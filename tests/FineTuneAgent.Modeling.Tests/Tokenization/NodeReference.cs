using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneAgent.Modeling.Tests.Tokenization;

/// <summary>
/// Runs tests/compat/tokenize.mjs: @huggingface/tokenizers, the JS port of HF tokenizers, over the
/// same files our tokenizer loads. See that script for the request and response shapes.
/// </summary>
internal static class NodeReference
{
    public static JsonNode Run(JsonObject request)
    {
        var script = Path.Combine(RepoPaths.Compat, "tokenize.mjs");
        if (!Directory.Exists(Path.Combine(RepoPaths.Compat, "node_modules", "@huggingface", "tokenizers")))
        {
            throw new InvalidOperationException(
                "The reference tokenizer is not installed: run scripts/setup.sh (it runs `npm ci` in tests/compat).");
        }
        var requestPath = Path.Combine(Path.GetTempPath(), $"fta-tokenizer-request-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        File.WriteAllText(requestPath, request.ToJsonString());
        try
        {
            var start = new ProcessStartInfo("node")
            {
                WorkingDirectory = RepoPaths.Compat,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(script);
            start.ArgumentList.Add(requestPath);
            using var process = StartNode(start);
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("node tokenize.mjs did not finish within 2 minutes");
            }
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"node tokenize.mjs failed ({process.ExitCode}): {stderr.Result}");
            }
            return JsonNode.Parse(stdout.Result, documentOptions: new JsonDocumentOptions { MaxDepth = 256 })!;
        }
        finally
        {
            File.Delete(requestPath);
        }
    }

    private static Process StartNode(ProcessStartInfo start)
    {
        try
        {
            return Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("node is not on PATH; run scripts/setup.sh (Node.js and npm are needed for the parity tests).", e);
        }
    }
}
