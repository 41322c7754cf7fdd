using FineTuneAgent.Core.Config;
using FineTuneAgent.Core.Config.Hocon;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Core.Tests.Config;

public sealed class AgentConfigLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fta-agent-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void RepositoryAgentHocon_DocumentsExactlyTheBuiltInDefaults()
    {
        var repoFile = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "agent.hocon");
        Assert.True(File.Exists(repoFile), repoFile);
        Assert.Equal(File.ReadAllText(repoFile), AgentConfigLoader.BuiltInText);

        var loaded = AgentConfigLoader.Load(environment: Env(), workingDirectory: _dir);

        Assert.Null(loaded.Source);
        Assert.Empty(loaded.Warnings);
        Assert.Equal(new AgentSettings(), loaded.Settings with { Cluster = new ClusterSettings() });
        Assert.Empty(loaded.Settings.Cluster.Seeds);
        Assert.Equal(new ClusterSettings().HeartbeatInterval, loaded.Settings.Cluster.HeartbeatInterval);
        Assert.Equal(new ClusterSettings().FailureDetectorThreshold, loaded.Settings.Cluster.FailureDetectorThreshold);
    }

    [Fact]
    public void EveryCommentedDefault_InAgentHocon_IsASettingTheBinderKnows()
    {
        // Each `key = value` line in agent.hocon, commented or not, names a real setting.
        var known = new HashSet<string>(new[] { typeof(AgentSettings), typeof(HttpSettings), typeof(TrainingDefaults), typeof(ClusterSettings), typeof(LoggingSettings) }
            .SelectMany(t => ConfigBinder.KeysOf(t).Keys));
        var keys = AgentConfigLoader.BuiltInText.Split('\n')
            .Select(l => l.Trim().TrimStart('#').Trim())
            .Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^[a-z0-9-]+ (=|\+=) "))
            .Select(l => l.Split(' ')[0])
            .ToList();

        Assert.NotEmpty(keys);
        Assert.All(keys, k => Assert.Contains(k, known));
        // and every setting appears in the file
        Assert.All(known.Except(["http", "training", "cluster", "logging"]), k => Assert.Contains(k, keys));
    }

    [Fact]
    public void EnvironmentVariables_OverrideWhereAgentHoconDeclaresThem()
    {
        var loaded = AgentConfigLoader.Load(environment: Env(
            ("FTA_AGENT_NAME", "lab-7"), ("FTA_RUNS_DIR", "/data/runs"), ("FTA_HTTP_PORT", "9100"), ("FTA_HTTP_BIND", "0.0.0.0"),
            ("FTA_AUTH_TOKEN", "0123456789abcdef"), ("FTA_CLUSTER_SEED", "10.0.0.2:8470"), ("FTA_CLUSTER_TOKEN", "s3cret"), ("FTA_LOG_LEVEL", "debug")),
            workingDirectory: _dir);

        var s = loaded.Settings;
        Assert.Equal("lab-7", s.Name);
        Assert.Equal("/data/runs", s.RunsDirectory);
        Assert.Equal(9100, s.Http.Port);
        Assert.Equal("0.0.0.0", s.Http.BindAddress);
        Assert.Equal("0123456789abcdef", s.Http.AuthToken);
        Assert.Equal(["10.0.0.2:8470"], s.Cluster.Seeds);
        Assert.Equal("s3cret", s.Cluster.ClusterToken);
        Assert.Equal(AgentLogLevel.Debug, s.Logging.Level);
    }

    [Fact]
    public void UserFile_IsReadOverTheDefaults_SettingOnlyWhatItChanges()
    {
        var file = Write("mine.hocon", """
            agent.http.port = 9200
            agent.training { method = lora, learning-rate = 2e-4, bf16 = on }
            agent.cluster.seeds += "10.0.0.9:8470"
            agent.cluster.cluster-token = abc
            agent.cluster.heartbeat-interval = 250ms
            agent.http.max-request-body-size = 8MiB
            """);

        var loaded = AgentConfigLoader.Load(file, Env(), _dir);

        Assert.Equal(file, loaded.Source);
        Assert.Equal(9200, loaded.Settings.Http.Port);
        Assert.Equal("127.0.0.1", loaded.Settings.Http.BindAddress);
        Assert.Equal(8 * 1024 * 1024, loaded.Settings.Http.MaxRequestBodySize);
        Assert.Equal(["10.0.0.9:8470"], loaded.Settings.Cluster.Seeds);
        Assert.Equal(TimeSpan.FromMilliseconds(250), loaded.Settings.Cluster.HeartbeatInterval);
        var options = loaded.Settings.Training.ToTrainingOptions();
        Assert.Equal("lora", loaded.Settings.Training.Method);
        Assert.Equal(2e-4, options.LearningRate);
        Assert.True(options.Bf16);
        Assert.Equal(new TrainingOptions().NumTrainEpochs, options.NumTrainEpochs);
    }

    [Fact]
    public void FileLookup_Explicit_ThenFtaConfig_ThenWorkingFolder_ThenNone()
    {
        var explicitFile = Write("explicit.hocon", "agent.name = explicit");
        var fromVariable = Write("variable.hocon", "agent.name = variable");
        var env = Env(("FTA_CONFIG", fromVariable));

        Assert.Equal("explicit", AgentConfigLoader.Load(explicitFile, env, _dir).Settings.Name);
        Assert.Equal("variable", AgentConfigLoader.Load(null, env, _dir).Settings.Name);
        Assert.Null(AgentConfigLoader.Load(null, Env(), _dir).Source);
        Write("agent.hocon", "agent.name = local");
        Assert.Equal("local", AgentConfigLoader.Load(null, Env(), _dir).Settings.Name);
        Assert.Equal("variable", AgentConfigLoader.Load(null, env, _dir).Settings.Name);
    }

    [Fact]
    public void NamedFileThatDoesNotExist_IsAnError_NotTheDefaults()
    {
        Assert.Throws<FileNotFoundException>(() => AgentConfigLoader.Load(Path.Combine(_dir, "nope.hocon"), Env(), _dir));
        Assert.Contains("FTA_CONFIG", Assert.Throws<FileNotFoundException>(() => AgentConfigLoader.Load(null, Env(("FTA_CONFIG", "/no/such.hocon")), _dir)).Message);
    }

    [Fact]
    public void Errors_AreAllReportedAtOnce_WithWarnings()
    {
        var file = Write("bad.hocon", "agent {\n  http.port = abc\n  http.bind-address = 0.0.0.0\n  logging.levle = debug\n  training.cutoff-len = 1\n}\n");

        var e = Assert.Throws<ConfigException>(() => AgentConfigLoader.Load(file, Env(), _dir));

        Assert.Equal(
        [
            $"agent.http.port: expected a number, got \"abc\" ({file}:2:15)",
            $"agent.http.bind-address: listening on 0.0.0.0 opens the API to the network; set agent.http.auth-token first ({file}:3:23)",
            $"agent.training.cutoff-len: must be at least 2, got 1 ({file}:5:25)",
        ], e.Errors.Select(p => p.ToString()));
        Assert.Equal($"agent.logging.levle: unknown setting; did you mean 'level'? ({file}:4:19)", Assert.Single(e.Warnings).ToString());
    }

    [Fact]
    public void SyntaxError_InTheUserFile_IsAHoconException_WithItsPosition()
    {
        var file = Write("broken.hocon", "agent {\n  name = \"unterminated\n}");

        var e = Assert.Throws<HoconException>(() => AgentConfigLoader.Load(file, Env(), _dir));

        Assert.Equal(new HoconPosition(file, 2, 10), e.Position);
    }
}
